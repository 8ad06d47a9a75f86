import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError } from '../config/load-yaml.js';
import { type CarProfile, type ProfileSet, loadProfiles, profileForCar } from '../config/profiles.js';
import { type ServiceConfig, loadServiceConfig } from '../config/service-config.js';
import type { Logger } from '../log.js';

/**
 * Config and profiles, live: the folders of the config file, the rig file and the profiles
 * are watched (folders, not files: editors replace files by renaming, which ends a file
 * watch). A change is validated whole; an invalid one is refused with file, line, key and
 * reason and the last good config stays. Profiles apply live (through hold); other keys are
 * logged as needing a restart. The e-stop key is not handled here: the e-stop thread reads
 * it itself, so no reload can delay it (estop-watch.ts).
 */
export class ConfigWatch {
  profiles: ProfileSet;
  profile: CarProfile;
  lastError: string | null = null;
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private config: ServiceConfig,
    private readonly overrides: string[],
    private readonly game: 'gt7' | 'f1',
    private readonly log: Logger,
    /** A profile to hand to the control worker. */
    private readonly apply: (p: CarProfile) => void,
  ) {
    this.profiles = loadProfiles(config.profiles.dir, config.profiles.default, config.loop.rateHz);
    this.profile = this.profiles.base;
  }

  start(): void {
    const c = this.config;
    this.watchDir(dirname(c.file), (n) => n === basename(c.file));
    if (c.rigFile) this.watchDir(dirname(c.rigFile), (n) => n === basename(c.rigFile!));
    this.watchDir(c.profiles.dir, (n) => /\.ya?ml$/.test(n));
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
  }

  /** The profile for a car (the base profile for −1); hands it over if it differs from the running one. Returns its name. */
  selectFor(carId: number): string {
    const next = this.profileFor(this.profiles, carId);
    if (next !== this.profile) {
      this.profile = next;
      this.apply(next);
    }
    return next.name;
  }

  /** A profile file pinned on the web page: it runs whatever the car (undefined: chosen by car, the default). Not kept across restarts. */
  pinned: string | undefined;

  private profileFor(set: ProfileSet, carId: number): CarProfile {
    if (this.pinned !== undefined) {
      const p = [set.base, ...set.cars].find((x) => basename(x.file) === this.pinned);
      if (p) return p;
    }
    return carId === -1 ? set.base : profileForCar(set, this.game, carId);
  }

  /**
   * A profile set checked by the web page (an applied or saved edit): it runs at once (through
   * hold, in the worker), until the next reload from the files. Returns the running profile's name.
   */
  useProfiles(set: ProfileSet, carId: number): string {
    this.profiles = set;
    const p = this.profileFor(set, carId);
    const same = JSON.stringify(p.cue) === JSON.stringify(this.profile.cue) && p.name === this.profile.name;
    this.profile = p;
    if (!same) {
      this.log.info({ event: 'profile-applied', profile: p.name, from: 'web' }, `profile ${p.name} applied from the web page; through hold`);
      this.apply(p);
    }
    return p.name;
  }

  reload(carId: number): void {
    const c = this.config;
    let next: ServiceConfig;
    let profiles: ProfileSet;
    try {
      next = loadServiceConfig(c.file, this.overrides);
      profiles = loadProfiles(next.profiles.dir, next.profiles.default, c.loop.rateHz);
    } catch (err) {
      this.lastError = err instanceof ConfigError ? err.message : String(err);
      this.log.error({ event: 'config-refused', problems: err instanceof ConfigError ? err.problems : undefined, err: this.lastError }, `config change refused, keeping the last good one: ${this.lastError}`);
      return;
    }
    this.lastError = null;
    const restart: string[] = [];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    for (const key of ['source', 'loop', 'rig', 'output', 'status', 'web'] as const) if (!same(next[key], c[key])) restart.push(key);
    if (!same({ ...next.safety, estop: 0 }, { ...c.safety, estop: 0 })) restart.push('safety (other than estop)');
    if (restart.length > 0) this.log.warn({ event: 'config-needs-restart', keys: restart }, `changed keys take effect after a restart: ${restart.join(', ')}`);
    this.profiles = profiles;
    const p = this.profileFor(profiles, carId);
    if (!same(p.cue, this.profile.cue) || p.name !== this.profile.name) {
      this.log.info({ event: 'profile-reloaded', profile: p.name }, `profile ${p.name} reloaded; applying through hold`);
      this.profile = p;
      this.apply(p);
    } else this.profile = p;
  }

  /** Set by the service: what reload() is called with (the current car). */
  currentCar: () => number = () => -1;

  private watchDir(dir: string, names: (n: string) => boolean): void {
    try {
      const w = watch(dir, (_e, name) => {
        if (name !== null && !names(name)) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload(this.currentCar()), 150);
      });
      w.on('error', () => w.close());
      this.watchers.push(w);
    } catch (err) {
      this.log.warn({ event: 'watch-failed', dir, err: (err as Error).message }, 'cannot watch for changes');
    }
  }
}
