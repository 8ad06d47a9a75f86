import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load-yaml.js';
import { deepMerge, loadProfiles, profileForCar } from '../../src/config/profiles.js';
import { estopRequested, loadServiceConfig } from '../../src/config/service-config.js';
import { defaultCueProfile } from '../../src/cueing/profile.js';
import { DEFAULT_SUPERVISOR_SETTINGS } from '../../src/safety/supervisor.js';
import { DEFAULT_WATCH_SETTINGS } from '../../src/safety/telemetry-watch.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

function problems(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('service config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'motion-rig-config-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('config.example.yaml is valid, documents every key, and its defaults equal an empty config’s', () => {
    const example = loadServiceConfig(join(REPO_ROOT, 'config.example.yaml'));
    const empty = loadServiceConfig(file('empty.yaml', `rig: ${join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml')}\nprofiles: { dir: ${join(REPO_ROOT, 'profiles')} }\nstatus: { file: /run/motion-rig/status.json }\n`));
    const strip = (c: typeof example) => ({ ...c, file: '', rigFile: '', output: { ...c.output, template: {} }, template: undefined });
    expect(strip(empty)).toEqual(strip(example));
    // The fixed key paths of the issue all exist.
    for (const key of ['source.type', 'source.gt7.console', 'source.gt7.heartbeat', 'loop.rateHz', 'output.type', 'output.serial.path', 'output.serial.baud', 'profiles.dir', 'profiles.default', 'safety.estop', 'status.file']) {
      let v: unknown = example;
      for (const k of key.split('.')) v = (v as Record<string, unknown>)[k];
      expect(v, key).not.toBeUndefined();
    }
  });

  it('the supervisor and telemetry watch built without a config use what config.example.yaml documents', () => {
    const { safety } = loadServiceConfig(join(REPO_ROOT, 'config.example.yaml'));
    expect(DEFAULT_SUPERVISOR_SETTINGS).toMatchObject({ engageSeconds: safety.engageSeconds, disengageSeconds: safety.disengageSeconds, parkSpeedFraction: safety.parkSpeedFraction });
    expect(DEFAULT_WATCH_SETTINGS).toMatchObject({ staleMs: safety.staleMs, settleMs: safety.settleMs, teleportHoldMs: safety.teleportHoldMs, carChangeHoldMs: safety.carChangeHoldMs });
  });

  it('errors name file, line, key and reason; a missing rig file names itself', () => {
    const p = file('bad.yaml', 'source:\n  type: gt8\nloop:\n  rateHz: 50\n');
    expect(problems(() => loadServiceConfig(p))).toEqual([
      { file: p, line: 2, key: 'source.type', reason: expect.stringContaining('gt7') },
      { file: p, line: 4, key: 'loop.rateHz', reason: expect.stringContaining('100') },
    ]);
    const q = file('norig.yaml', 'rig: nowhere.yaml\n');
    expect(problems(() => loadServiceConfig(q))[0]).toMatchObject({ file: join(dir, 'nowhere.yaml'), reason: expect.stringContaining('cannot read') });
  });

  it('--set overrides any key, typed as YAML, and its problems name the flag', () => {
    const p = file('ok.yaml', `rig: ${join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml')}\nprofiles: { dir: ${join(REPO_ROOT, 'profiles')} }\n`);
    const c = loadServiceConfig(p, ['loop.rateHz=500', 'safety.estop=true', 'output.serial.path=/dev/ttyACM0', 'source.gt7.console=192.168.1.20']);
    expect(c.loop.rateHz).toBe(500);
    expect(c.safety.estop).toBe(true);
    expect(c.output.serial.path).toBe('/dev/ttyACM0');
    expect(c.source.gt7.console).toBe('192.168.1.20');
    expect(problems(() => loadServiceConfig(p, ['loop.rateHz=fast']))).toEqual([{ file: '--set loop.rateHz', line: undefined, key: 'loop.rateHz', reason: expect.stringContaining('number') }]);
  });

  it('loop.rateHz takes 100..2000 Hz (the range docs/ARCHITECTURE.md gives), the same the cueing chain builds at', () => {
    const p = file('rate.yaml', `rig: ${join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml')}\noutput: { serial: { baud: 2000000 } }\n`);
    for (const rate of [100, 2000]) expect(loadServiceConfig(p, [`loop.rateHz=${rate}`]).loop.rateHz).toBe(rate);
    for (const rate of [99, 2001]) expect(problems(() => loadServiceConfig(p, [`loop.rateHz=${rate}`]))[0]!.key).toBe('loop.rateHz');
  });

  // Issue 13: only a literal `false` (or no value) lets the rig run; anything else someone
  // types for safety.estop stops it, and never makes the config invalid.
  const rig = `rig: ${join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml')}\n`;
  const stops = ['true', 'yes', 'on', '1', '"true"', 'stop', '"stop"', '0', 'no', 'off', '"false"', '""', '[]', '{ now: 1 }', 'True', 'YES'];
  const runs = ['false', 'null', '~', ''];
  it.each(stops)('safety.estop: %s stops the rig, in the schema and in estopRequested', (value) => {
    const p = file('estop-on.yaml', `${rig}safety:\n  estop: ${value}\n`);
    expect(loadServiceConfig(p).safety.estop).toBe(true);
    expect(estopRequested(parse(readFileSync(p, 'utf8')))).toBe(true);
  });

  it.each(runs)('safety.estop: %s (false, or no value) lets it run', (value) => {
    const p = file('estop-off.yaml', `${rig}safety:\n  estop: ${value}\n  staleMs: 100\n`);
    expect(loadServiceConfig(p).safety.estop).toBe(false);
    expect(estopRequested(parse(readFileSync(p, 'utf8')))).toBe(false);
  });

  it('safety.estop absent: off; estopRequested on a document that is not a config object: false, never a throw', () => {
    const p = file('estop-absent.yaml', `${rig}safety:\n  staleMs: 100\n`);
    expect(loadServiceConfig(p).safety.estop).toBe(false);
    expect(estopRequested(parse(readFileSync(p, 'utf8')))).toBe(false);
    expect(estopRequested(parse(rig))).toBe(false);
    for (const doc of [null, undefined, 'safety: { estop: true }', 1, true, ['safety'], [{ safety: { estop: true } }], { safety: 'estop' }, { safety: null }, { safety: [true] }]) {
      expect(estopRequested(doc), JSON.stringify(doc)).toBe(false);
    }
    const hostile = new Proxy({}, { get: () => { throw new Error('no'); } });
    expect(estopRequested(hostile)).toBe(false);
    expect(estopRequested({ safety: hostile })).toBe(false);
  });

  it('--set safety.estop=yes stops too; an otherwise invalid file still says what it wants through estopRequested', () => {
    const p = file('estop-set.yaml', rig);
    expect(loadServiceConfig(p, ['safety.estop=yes']).safety.estop).toBe(true);
    const bad = file('estop-bad.yaml', `${rig}safety:\n  estop: yes\n  staleMs: fast\n`);
    expect(problems(() => loadServiceConfig(bad)).map((q) => q.key)).toEqual(['safety.staleMs']);
    expect(estopRequested(parse(readFileSync(bad, 'utf8')))).toBe(true);
  });

  it('web.token: 16+ visible ASCII characters, else a config error with file, line and key', () => {
    const rig = `rig: ${join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml')}\n`;
    for (const token of ['"short-token"', '"sixteen chars with spaces"', '"tökentökentökentöken"', '"tab\\tseparated-token-text"']) {
      const p = file('token.yaml', `${rig}web:\n  token: ${token}\n`);
      expect(problems(() => loadServiceConfig(p)), token).toEqual([{ file: p, line: 3, key: 'web.token', reason: expect.stringContaining('visible ASCII') }]);
    }
    const ok = file('token-ok.yaml', `${rig}profiles: { dir: ${join(REPO_ROOT, 'profiles')} }\nweb:\n  token: "Abc!~#0123456789xyz"\n`);
    expect(loadServiceConfig(ok).web.token).toBe('Abc!~#0123456789xyz');
  });

  it('refuses a loop rate the serial line cannot carry and says what fits', () => {
    const p = file('slow.yaml', `rig: ${join(REPO_ROOT, 'profiles/rigs/stewart-linear.yaml')}\nloop: { rateHz: 2000 }\noutput: { serial: { baud: 115200 } }\n`);
    // 6 axes: 9 + 12 = 21 bytes per frame, 10 bits a byte, 90 % of 115200 → 493 Hz.
    expect(problems(() => loadServiceConfig(p))[0]!.reason).toContain('highest rate that fits is 493 Hz');
  });

  it('an inline rig is validated with the rig schema, its lines included', () => {
    const p = file('inline.yaml', 'rig:\n  type: four-corner\n  homeHeight: 0.3\n  length: 1\n  width: 0.6\n  actuators: { min: 0, max: 0.1, maxVelocity: -1, maxAcceleration: 5 }\n');
    expect(problems(() => loadServiceConfig(p))).toEqual([{ file: p, line: 6, key: 'rig.actuators.maxVelocity', reason: expect.any(String) }]);
  });
});

describe('per-car profiles', () => {
  it('deep-merges an override onto the base: objects key by key, values replaced', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] }, d: 1 });
  });

  it('matches GT7 car codes and F1 team ids; the base for everyone else; an override changes only its keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'motion-rig-profiles-'));
    mkdirSync(join(dir, 'rigs'));
    writeFileSync(join(dir, 'rigs', 'ignored.yaml'), 'not: a profile\n');
    writeFileSync(join(dir, 'default.yaml'), 'cue:\n  surge: { gain: 0.05 }\n');
    writeFileSync(join(dir, 'gr3.yaml'), 'name: Gr.3\nmatch: { gt7CarCodes: [3286, 3396] }\ncue:\n  surge: { highpass: { omegaN: 3 } }\n');
    writeFileSync(join(dir, 'f1.yaml'), 'match: { f1TeamIds: [4] }\ncue:\n  pitch: { gain: 0.9 }\n');
    const set = loadProfiles(dir, 'default.yaml');
    const gr3 = profileForCar(set, 'gt7', 3396);
    expect(gr3.name).toBe('Gr.3');
    expect(gr3.cue.surge.gain).toBe(0.05); // from the base
    expect(gr3.cue.surge.highpass.omegaN).toBe(3); // from the override
    expect(gr3.cue.surge.highpass.zeta).toBe(defaultCueProfile().surge.highpass.zeta); // schema default
    expect(profileForCar(set, 'gt7', 1).name).toBe('default');
    expect(profileForCar(set, 'f1', 4).cue.pitch.gain).toBe(0.9);
    expect(profileForCar(set, 'gt7', 4).name).toBe('default');
  });

  it('refuses an override with a bad value (its own file and line), no cars, or a car another file has', () => {
    const dir = mkdtempSync(join(tmpdir(), 'motion-rig-profiles-'));
    writeFileSync(join(dir, 'default.yaml'), 'cue: {}\n');
    writeFileSync(join(dir, 'a.yaml'), 'match: { gt7CarCodes: [1] }\ncue:\n  surge:\n    highpass: { omegaN: -1 }\n');
    expect(problems(() => loadProfiles(dir, 'default.yaml'))).toEqual([{ file: join(dir, 'a.yaml'), line: 4, key: 'cue.surge.highpass.omegaN', reason: expect.any(String) }]);
    writeFileSync(join(dir, 'a.yaml'), 'match: {}\n');
    expect(problems(() => loadProfiles(dir, 'default.yaml'))[0]!.reason).toContain('at least one car');
    writeFileSync(join(dir, 'a.yaml'), 'match: { gt7CarCodes: [1] }\n');
    writeFileSync(join(dir, 'b.yaml'), 'match: { gt7CarCodes: [1] }\n');
    expect(problems(() => loadProfiles(dir, 'default.yaml'))[0]!.reason).toContain('already matched by a.yaml');
  });

  it('refuses, at the configured loop rate, a base or override (after merging) the cueing chain cannot build', () => {
    const dir = mkdtempSync(join(tmpdir(), 'motion-rig-profiles-'));
    writeFileSync(join(dir, 'default.yaml'), 'cue:\n  pitch: { highpass: { omega: 400 } }\n');
    writeFileSync(join(dir, 'fast.yaml'), 'match: { gt7CarCodes: [1] }\ncue:\n  surge:\n    highpass: { omegaN: 25000 }\n');
    // π·1000 = 3141.6 rad/s: 25000 cannot be built, the base's 400 can.
    expect(problems(() => loadProfiles(dir, 'default.yaml', 1000))).toEqual([
      { file: join(dir, 'fast.yaml'), line: 4, key: 'cue.surge.highpass.omegaN', reason: expect.stringMatching(/25000 rad\/s .*Nyquist.*3141\.6 rad\/s at loop\.rateHz 1000/) },
    ]);
    expect(problems(() => loadProfiles(dir, 'default.yaml'))[0]!.file).toBe(join(dir, 'fast.yaml')); // the default rate is 1000 Hz
    // π·100 = 314.2 rad/s: now the base's 400 is refused too (and first).
    writeFileSync(join(dir, 'fast.yaml'), 'match: { gt7CarCodes: [1] }\n');
    expect(problems(() => loadProfiles(dir, 'default.yaml', 100))).toEqual([{ file: join(dir, 'default.yaml'), line: 2, key: 'cue.pitch.highpass.omega', reason: expect.stringContaining('314.2 rad/s') }]);
    expect(loadProfiles(dir, 'default.yaml', 1000).cars).toHaveLength(1);
  });

  it('the shipped profiles load', () => {
    const set = loadProfiles(join(REPO_ROOT, 'profiles'), 'default.yaml');
    expect(set.cars.map((c) => c.file).sort()).toEqual([join(REPO_ROOT, 'profiles', 'f1-example.yaml'), join(REPO_ROOT, 'profiles', 'gt7-example-gr3.yaml')]);
    expect(profileForCar(set, 'f1', 5).name).toBe('example override (F1 cars)');
    expect(profileForCar(set, 'f1', 10).name).toBe('default');
  });
});
