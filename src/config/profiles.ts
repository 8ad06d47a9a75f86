import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { CueingChain } from '../cueing/chain.js';
import { type CueProfile, cueSchemaAt, profileFileSchemaAt } from '../cueing/profile.js';
import { LOOP_RATE_DEFAULT_HZ } from '../cueing/rate.js';
import { ConfigError, type YamlSource, parseYamlSource, readYamlSource, validateYaml } from './load-yaml.js';

/** Profile files: YAML, directly in the profiles folder. */
export const PROFILE_FILE = /\.ya?ml$/;

/**
 * Cueing profiles: one base profile (`profiles.default`) plus per-car overrides in the same
 * folder. An override names the cars it is for and only the keys it changes; it is
 * deep-merged onto the base and the result validated as a whole:
 *
 *   name: Gr.3 cars, stiffer
 *   match: { gt7CarCodes: [3286, 3396], f1TeamIds: [] }
 *   cue:
 *     surge: { gain: 0.06 }
 *
 * Sub-folders (e.g. profiles/rigs) are not profiles.
 */
const baseFileSchema = z.looseObject({ cue: z.record(z.string(), z.unknown()).default({}) });
const overrideFileSchema = z.strictObject({
  name: z.string().optional(),
  match: z
    .strictObject({
      gt7CarCodes: z.array(z.number().int()).default([]),
      f1TeamIds: z.array(z.number().int()).default([]),
    })
    .refine((m) => m.gt7CarCodes.length + m.f1TeamIds.length > 0, 'name at least one car (gt7CarCodes or f1TeamIds)'),
  cue: z.record(z.string(), z.unknown()).default({}),
});

export interface CarProfile {
  name: string;
  file: string;
  gt7CarCodes: number[];
  f1TeamIds: number[];
  cue: CueProfile;
}

export interface ProfileSet {
  base: CarProfile;
  cars: CarProfile[];
}

/** Objects merge key by key; anything else (numbers, lists) is replaced by the override. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Backstop behind the schema's rate checks: a profile is only good if the chain really builds
 * from it at the loop rate, so the control worker never meets one that throws.
 */
function assertBuilds(p: CarProfile, rateHz: number): CarProfile {
  try {
    new CueingChain(p.cue, rateHz);
  } catch (err) {
    throw new ConfigError([{ file: p.file, line: undefined, key: 'cue', reason: `the cueing chain cannot be built at loop.rateHz ${rateHz}: ${(err as Error).message}` }]);
  }
  return p;
}

/**
 * Loads the base and every override in `dir`, each (overrides after merging onto the base)
 * checked to build a cueing chain at `rateHz`, the configured `loop.rateHz`. Throws
 * ConfigError naming the file and line. `texts` (file name → YAML text), when given, is the
 * whole folder's content instead of the disk's: the web page checks an edit with it exactly
 * as the service would load the saved file.
 */
export function loadProfiles(dir: string, defaultName: string, rateHz: number = LOOP_RATE_DEFAULT_HZ, texts?: ReadonlyMap<string, string>): ProfileSet {
  const cueSchema = cueSchemaAt(rateHz);
  const read = (file: string) => {
    if (texts === undefined) return readYamlSource(file);
    const text = texts.get(basename(file));
    if (text === undefined) throw new ConfigError([{ file, line: undefined, key: '', reason: 'no such profile file' }]);
    return parseYamlSource(text, file);
  };
  const baseFile = join(dir, defaultName);
  const baseSrc = read(baseFile);
  const baseRaw = validateYaml(baseSrc, baseFileSchema).cue;
  const base = assertBuilds({ name: basename(defaultName, '.yaml'), file: baseFile, gt7CarCodes: [], f1TeamIds: [], cue: validateYaml(baseSrc, cueSchema, baseRaw, ['cue']) }, rateHz);
  const cars: CarProfile[] = [];
  let names: string[];
  try {
    names = (texts !== undefined ? [...texts.keys()] : readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name))
      .filter((name) => PROFILE_FILE.test(name) && name !== defaultName)
      .sort();
  } catch (err) {
    throw new ConfigError([{ file: dir, line: undefined, key: 'profiles.dir', reason: (err as Error).message }]);
  }
  const claimed = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const src = read(file);
    const o = validateYaml(src, overrideFileSchema);
    const cue = validateYaml(src, cueSchema, deepMerge(baseRaw, o.cue), ['cue']);
    for (const [kind, ids] of [['gt7', o.match.gt7CarCodes], ['f1', o.match.f1TeamIds]] as const) {
      for (const id of ids) {
        const other = claimed.get(`${kind}:${id}`);
        if (other) throw new ConfigError([{ file, line: undefined, key: 'match', reason: `car ${id} is already matched by ${other}` }]);
        claimed.set(`${kind}:${id}`, name);
      }
    }
    cars.push(assertBuilds({ name: o.name ?? basename(name).replace(/\.ya?ml$/, ''), file, gt7CarCodes: o.match.gt7CarCodes, f1TeamIds: o.match.f1TeamIds, cue }, rateHz));
  }
  return { base, cars };
}

/**
 * One whole profile file (`cue:` and keys the cueing ignores), as `--profile`/`--base` take
 * it: validated at `rateHz` and checked to build a chain, with its parsed source (for tools
 * that rewrite it keeping its comments). Throws ConfigError naming the file and line.
 */
export function loadProfileFile(path: string, rateHz: number): { source: YamlSource; cue: CueProfile } {
  const source = readYamlSource(path);
  const { cue } = validateYaml(source, profileFileSchemaAt(rateHz));
  assertBuilds({ name: basename(path), file: path, gt7CarCodes: [], f1TeamIds: [], cue }, rateHz);
  return { source, cue };
}

/** The profile for a car id of a given game (the base when no override names it). */
export function profileForCar(set: ProfileSet, game: 'gt7' | 'f1', carId: number): CarProfile {
  return set.cars.find((c) => (game === 'gt7' ? c.gt7CarCodes : c.f1TeamIds).includes(carId)) ?? set.base;
}
