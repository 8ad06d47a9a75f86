import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
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

/** Parses YAML text and validates it; returns the parsed value or throws ConfigError. */
export function parseYamlWith<S extends z.ZodType>(text: string, schema: S, file: string): z.infer<S> {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ file, line: counter.linePos(e.pos[0]).line, key: '', reason: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  const result = schema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      return { file, line: lineOf(doc.contents, path, counter), key: path.join('.'), reason: issue.message };
    }),
  );
}

export function loadYamlFile<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, line: undefined, key: '', reason: `cannot read: ${(err as Error).message}` }]);
  }
  return parseYamlWith(text, schema, path);
}
