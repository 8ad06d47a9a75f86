"""Writes every frame of vectors.json, good and bad, as one file each into a libFuzzer corpus
directory: the fuzzer starts from real frames instead of finding COBS and the CRC by itself.

    python3 seed_corpus.py vectors.json OUT_DIR
"""
import json
import os
import sys

vectors_path, out_dir = sys.argv[1], sys.argv[2]
with open(vectors_path, encoding='utf-8') as f:
    vectors = json.load(f)
os.makedirs(out_dir, exist_ok=True)
for kind in ('frames', 'bad'):
    for n, vector in enumerate(vectors[kind]):
        with open(os.path.join(out_dir, f'{kind}-{n:03d}'), 'wb') as out:
            out.write(bytes.fromhex(vector['wire'].replace(' ', '')))
