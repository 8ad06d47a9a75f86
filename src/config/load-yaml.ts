import { readFileSync } from 'node:fs';
import { type Document, LineCounter, isMap, isSeq, parse, parseDocument, type Node } from 'yaml';
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

/** Parses YAML text; throws ConfigError on a syntax error. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ file, line: counter.linePos(e.pos[0]).line, key: '', reason: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  return { file, doc, counter, overrides: [] };
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
    const value: unknown = parse(set.slice(eq + 1));
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
export function validateYaml<S extends z.ZodType>(src: YamlSource, schema: S, value: unknown = src.doc.toJS() ?? {}, prefix: (string | number)[] = []): z.infer<S> {
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

export function readYamlSource(path: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, line: undefined, key: '', reason: `cannot read: ${(err as Error).message}` }]);
  }
  return parseYamlSource(text, path);
}

export function loadYamlFile<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  return validateYaml(readYamlSource(path), schema);
}
