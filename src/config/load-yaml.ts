import { closeSync, openSync, readSync } from 'node:fs';
import { type CST, Composer, type Document, LineCounter, Parser, isMap, isSeq, type Node } from 'yaml';
import type { z } from 'zod';

/**
 * YAML + zod with errors a rig owner can act on: every problem names the file, the line,
 * the key path and the reason. Nothing here throws a bare zod error at a user.
 */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export interface ConfigProblem {
  file: string;
  line: number | undefined;
  key: string;
  reason: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.key || '(top level)'}: ${p.reason}`;
}

function lineOf(doc: Node | null | undefined, path: (string | number)[], counter: LineCounter): number | undefined {
  let node: unknown = doc;
  let line: number | undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      const k = pair.key as Node | null;
      if (k?.range) line = counter.linePos(k.range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      const n = node as Node | undefined;
      if (n?.range) line = counter.linePos(n.range[0]).line;
    } else break;
  }
  return line;
}

/** A parsed YAML document with what is needed to name lines. */
export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  counter: LineCounter;
  /** Key paths set from the command line (`--set a.b=v`): their problems name the flag, not a line. */
  overrides: string[];
}

/**
 * Limits on what a config, rig or profile file may be, so that no file (a typo, a paste, an
 * attack) can exhaust the process that parses it. Each refusal is a ConfigError naming the file.
 *   - size: the largest shipped file is ~5 KB; 64 KiB parses in ~0.1 s here. Larger files are
 *     not even read past the limit.
 *   - depth: nesting of maps and lists; the shipped files nest 5 deep. The yaml composer
 *     recurses per level: ~1000 levels overflow the stack, ~10000 `[` abort the process (out
 *     of memory, uncatchable). Depth is measured on the yaml library's CST, which its parser
 *     builds without recursion, before anything recursive sees the document.
 *   - aliases: an alias bomb ("billion laughs") expands exponentially; the yaml library stops
 *     at this many alias resolutions (its own default, made explicit).
 */
export const MAX_YAML_BYTES = 64 * 1024;
export const MAX_YAML_DEPTH = 64;
export const MAX_YAML_ALIASES = 100;

const refusal = (file: string, line: number | undefined, reason: string) => new ConfigError([{ file, line, key: '', reason }]);
const tooLarge = (file: string) => refusal(file, undefined, `larger than ${MAX_YAML_BYTES / 1024} KiB, the most a config, rig or profile file may be`);

/** Offset of the first collection nested deeper than MAX_YAML_DEPTH, if any (iterative: the depth is the attack). */
function tooDeepAt(tokens: CST.Token[]): number | undefined {
  const stack = tokens.map((token) => ({ token, depth: 0 }));
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { token, depth } = top;
    if (token.type === 'document') {
      if (token.value) stack.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > MAX_YAML_DEPTH) return token.offset;
      for (const item of token.items) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** Parses YAML text within the limits above; throws ConfigError (file, line) on a syntax error or a limit. */
export function parseYamlSource(text: string, file: string): YamlSource {
  if (Buffer.byteLength(text) > MAX_YAML_BYTES) throw tooLarge(file);
  const counter = new LineCounter();
  const tokens = Array.from(new Parser(counter.addNewLine).parse(text));
  const deep = tooDeepAt(tokens);
  if (deep !== undefined) throw refusal(file, counter.linePos(deep).line, `nested more than ${MAX_YAML_DEPTH} levels deep`);
  const [doc, more] = Array.from(new Composer().compose(tokens, true, text.length));
  if (doc === undefined) throw refusal(file, undefined, 'YAML syntax: no document');
  if (more !== undefined) throw refusal(file, counter.linePos(more.range[0]).line, 'YAML syntax: more than one document (a second `---`)');
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ file, line: counter.linePos(e.pos[0]).line, key: '', reason: `YAML syntax: ${e.message.split('\n')[0]}` })));
  }
  return { file, doc, counter, overrides: [] };
}

/** The document as plain values; an alias bomb is refused naming the file. */
export function plainValue(src: YamlSource): unknown {
  try {
    return src.doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    throw refusal(src.file, undefined, `aliases expand too far (more than ${MAX_YAML_ALIASES} resolutions): ${(err as Error).message}`);
  }
}

/**
 * Applies `key.path=value` overrides (value read as YAML: numbers, booleans, lists work) to a
 * parsed document before validation.
 */
export function applyOverrides(src: YamlSource, sets: string[]): void {
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new ConfigError([{ file: '--set', line: undefined, key: set, reason: 'want --set key.path=value' }]);
    const key = set.slice(0, eq);
    const value = plainValue(parseYamlSource(set.slice(eq + 1), `--set ${key}`));
    if (src.doc.contents === null) src.doc.contents = src.doc.createNode({}) as unknown as typeof src.doc.contents;
    try {
      src.doc.setIn(key.split('.'), value);
    } catch (err) {
      throw new ConfigError([{ file: '--set', line: undefined, key, reason: (err as Error).message }]);
    }
    src.overrides.push(key);
  }
}

/** Validates `value` (by default the whole document) against a schema; problems name file, line and key. */
export function validateYaml<S extends z.ZodType>(src: YamlSource, schema: S, value: unknown = plainValue(src) ?? {}, prefix: (string | number)[] = []): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const path = [...prefix, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
      const key = path.join('.');
      const overridden = src.overrides.find((o) => key === o || key.startsWith(`${o}.`));
      if (overridden !== undefined) return { file: `--set ${overridden}`, line: undefined, key, reason: issue.message };
      return { file: src.file, line: lineOf(src.doc.contents, path, src.counter), key, reason: issue.message };
    }),
  );
}

/** Parses YAML text and validates it; returns the parsed value or throws ConfigError. */
export function parseYamlWith<S extends z.ZodType>(text: string, schema: S, file: string): z.infer<S> {
  return validateYaml(parseYamlSource(text, file), schema);
}

/** Reads at most MAX_YAML_BYTES + 1 bytes: a huge file (or /dev/zero) is refused without reading it all. */
function readLimited(path: string): string {
  const buf = Buffer.alloc(MAX_YAML_BYTES + 1);
  let n = 0;
  let fd: number;
  try {
    fd = openSync(path, 'r');
    try {
      while (n < buf.length) {
        const got = readSync(fd, buf, n, buf.length - n, null);
        if (got === 0) break;
        n += got;
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw refusal(path, undefined, `cannot read: ${(err as Error).message}`);
  }
  if (n > MAX_YAML_BYTES) throw tooLarge(path);
  return buf.toString('utf8', 0, n);
}

export function readYamlSource(path: string): YamlSource {
  return parseYamlSource(readLimited(path), path);
}

/** A file's plain value (not validated), within the limits: for a fast look at one key. Throws ConfigError. */
export function readYamlValue(path: string): unknown {
  return plainValue(readYamlSource(path));
}

export function loadYamlFile<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  return validateYaml(readYamlSource(path), schema);
}
