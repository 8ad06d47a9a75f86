import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { rigFileSchema, rigSchema } from './rig-file.js';
import type { RigSpec } from './rig-schema.js';
import { checkRigLinkBandwidth } from '../output/bandwidth.js';
import { TEMPLATE_PRESETS, type TemplateOptions } from '../output/template.js';
import { legCountOf } from '../kinematics/geometry.js';
import { LOOP_RATE_DEFAULT_HZ, LOOP_RATE_MAX_HZ, LOOP_RATE_MIN_HZ } from '../cueing/rate.js';
import { DEFAULT_SUPERVISOR_SETTINGS as SUPERVISOR } from '../safety/supervisor.js';
import { DEFAULT_WATCH_SETTINGS as WATCH } from '../safety/telemetry-watch.js';
import { ConfigError, type YamlSource, applyOverrides, parseYamlSource, readYamlSource, validateYaml } from './load-yaml.js';

/**
 * The service's one config file (config.example.yaml documents every key). Relative paths
 * are relative to the config file. Validation names file, line, key and reason; a running
 * service that reads an invalid change keeps its last good config.
 */
const positive = z.number().positive();

/**
 * `safety.estop`: only the literal `false`, or no value at all (absent, null), lets the rig
 * run. Anything else stops it: true, yes, on, 1, "true", "stop" — and also 0, "no", "off" and
 * "false" as a string. A person reaching for the e-stop types what YAML 1.1 taught them; a
 * value read as "stop" by mistake is a controlled stop, one read as "run" by mistake is not.
 */
function estopValueStops(value: unknown): boolean {
  return value !== false && value !== undefined && value !== null;
}

/**
 * Whether a raw parsed config document (YAML → plain JS, not validated) asks for an e-stop
 * through `safety.estop`, by the same rule the schema uses. For the fast path that must act
 * on an edit even when the rest of the file is invalid. Never throws; a document that is not
 * an object (or whose `safety` is not one) asks for nothing.
 */
export function estopRequested(raw: unknown): boolean {
  try {
    if (!isRecord(raw) || !isRecord(raw.safety)) return false;
    return estopValueStops(raw.safety.estop);
  } catch {
    // A getter or proxy that throws is not a parsed YAML document: nothing was asked for.
    return false;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const gt7Schema = z
  .strictObject({
    /** Console IP address, or "discover" (PlayStation discovery on the LAN). */
    console: z.string().min(1).default('discover'),
    heartbeat: z.enum(['A', 'B', '~', 'C']).default('B'),
    /** Local telemetry port: the console sends to 33740 only, so another value is for tests (a real console ignores it). */
    telemetryPort: z.number().int().min(0).max(65535).default(33740),
    /** Local address of the telemetry socket (the heartbeat leaves from it). */
    bind: z.string().default('0.0.0.0'),
  })
  .prefault({});

/** A web token: 16 or more visible ASCII characters (what an Authorization header carries unchanged). */
export const WEB_TOKEN = /^[\x21-\x7e]{16,}$/;

export const serviceConfigSchema = z.strictObject({
  source: z
    .strictObject({
      type: z.enum(['gt7', 'f1', 'replay', 'simulator']).default('simulator'),
      gt7: gt7Schema,
      f1: z
        .strictObject({
          port: z.number().int().min(1).max(65535).default(20777),
          bind: z.string().default('0.0.0.0'),
          /** Only take packets from this address (default: the first sender). */
          sender: z.string().optional(),
        })
        .prefault({}),
      replay: z.strictObject({ file: z.string().min(1).optional(), loop: z.boolean().default(true) }).prefault({}),
      simulator: z
        .strictObject({
          /** Phases of the built-in console simulator's synthetic drive, NAME:SECONDS, cycled. */
          phases: z.string().default('drive:40,pause:3,drive:20,menu:3,replay:5,silent:2'),
        })
        .prefault({}),
    })
    .prefault({}),
  /** The GT7 relay (docs/gt7-telemetry.md, "Sharing the console"): the service answers other apps' heartbeats like a console. */
  relay: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Local address of the relay's heartbeat socket (UDP 33739); packets to the apps leave from it. */
      bind: z.string().min(1).default('0.0.0.0'),
      /** Apps served at once; a heartbeat from one more is refused (counted) until one goes quiet. */
      maxClients: z.number().int().min(1).max(32).default(8),
    })
    .prefault({}),
  loop: z
    .strictObject({
      rateHz: z.number().int().min(LOOP_RATE_MIN_HZ).max(LOOP_RATE_MAX_HZ).default(LOOP_RATE_DEFAULT_HZ),
      /** Largest busy-wait before each deadline, µs: CPU traded for timing (≥ one period: always spin). */
      maxSpinUs: z.number().min(30).max(10000).default(300),
      /**
       * SCHED_FIFO priority for the control thread (1–49), 0: an ordinary thread. Needs root,
       * CAP_SYS_NICE or RLIMIT_RTPRIO (systemd LimitRTPRIO=, 10 in the unit: raise both together);
       * refused when maxSpinUs is over half a period.
       */
      realtimePriority: z.number().int().min(0).max(49).default(10),
    })
    .prefault({}),
  /** A rig file path, or the rig itself (the kinematics schema). */
  rig: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).default('profiles/rigs/stewart-linear.yaml'),
  output: z
    .strictObject({
      type: z.enum(['riglink', 'template', 'virtual']).default('riglink'),
      serial: z
        .strictObject({
          path: z.string().min(1).default('/dev/motion-rig'),
          baud: z.number().int().positive().default(500000),
          dtr: z.boolean().default(false),
          rts: z.boolean().default(false),
          lowLatency: z.boolean().default(true),
        })
        .prefault({}),
      /** MCU-timed playout delay, ms (PROTOCOL.md §7), used when the MCU supports it; 0: never ask. */
      playoutDelayMs: z.number().min(0).max(20).default(2),
      template: z
        .strictObject({
          preset: z.enum(['smc3', 'generic16']).optional(),
          template: z.string().min(1).optional(),
          bits: z.number().int().min(8).max(24).optional(),
          format: z.enum(['binary', 'decimal', 'hex']).optional(),
          start: z.string().optional(),
          stop: z.string().optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  profiles: z.strictObject({ dir: z.string().min(1).default('profiles'), default: z.string().min(1).default('default.yaml') }).prefault({}),
  safety: z
    .strictObject({
      /** Every value is accepted (never a reason to refuse the config) and read by estopValueStops. */
      estop: z.unknown().optional().transform(estopValueStops),
      estopFile: z.string().min(1).optional(),
      // Defaults are the safety modules' own (written once, there).
      engageSeconds: positive.max(30).default(SUPERVISOR.engageSeconds),
      disengageSeconds: positive.max(10).default(SUPERVISOR.disengageSeconds),
      parkSpeedFraction: positive.max(1).default(SUPERVISOR.parkSpeedFraction),
      staleMs: positive.max(1000).default(WATCH.staleMs),
      settleMs: z.number().min(0).max(5000).default(WATCH.settleMs),
      teleportHoldMs: z.number().min(0).max(10000).default(WATCH.teleportHoldMs),
      carChangeHoldMs: z.number().min(0).max(10000).default(WATCH.carChangeHoldMs),
      /** How long SIGTERM waits for the rig to park before exiting anyway. */
      shutdownTimeoutMs: positive.max(60000).default(10000),
    })
    .prefault({}),
  status: z.strictObject({ file: z.string().min(1).optional() }).prefault({}),
  /** The web page and its HTTP API (docs/web.md), served by the service's main thread. */
  web: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** HOST:PORT; 0.0.0.0:8417 opens it to the LAN (a phone), port 0 picks a free one. */
      listen: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]*):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:8417').refine((s) => Number(s.split(':').at(-1)) <= 65535, 'port 0..65535').default('127.0.0.1:8417'),
      /** The token that lets the page move the rig or change files; unset: generated at first start into tokenFile. */
      token: z.string().regex(WEB_TOKEN, 'at least 16 visible ASCII characters (! to ~: no spaces or other characters)').optional(),
      /** Where a generated token is kept (default: web-token in the state folder: $STATE_DIRECTORY under systemd, else status.file's folder, else this file's). */
      tokenFile: z.string().min(1).optional(),
      /** Where recordings started on the page go, and which recordings it can list and report on (default: recordings/ in the state folder). */
      recordingsDir: z.string().min(1).optional(),
      /** Further names this machine is reached by (the Host header); IP literals, localhost, the listen host and the hostname(.local) always pass. */
      hosts: z.array(z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/, 'a host name, e.g. rig.lan')).default([]),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') }).prefault({}),
});

export type ServiceConfigFile = z.infer<typeof serviceConfigSchema>;

/** The validated config with paths resolved and the rig loaded. */
export interface ServiceConfig extends Omit<ServiceConfigFile, 'rig' | 'web'> {
  web: ServiceConfigFile['web'] & { tokenFile: string; recordingsDir: string };
  file: string;
  rig: RigSpec;
  /** Where the rig came from (a file, or the config itself). */
  rigFile: string | undefined;
  template: TemplateOptions | undefined;
}

/** Loads, overrides (`--set`), validates and cross-checks a config file. Throws ConfigError. */
export function loadServiceConfig(file: string, sets: string[] = []): ServiceConfig {
  return fromSource(readYamlSource(file), sets);
}

/** The same from text (the demo's embedded defaults). `file` names it in errors; relative paths resolve against `baseDir`. */
export function parseServiceConfig(text: string, file: string, sets: string[] = [], baseDir?: string): ServiceConfig {
  return fromSource(parseYamlSource(text, file), sets, baseDir);
}

function fromSource(src: YamlSource, sets: string[], baseDir = dirname(resolve(src.file))): ServiceConfig {
  applyOverrides(src, sets);
  const cfg = validateYaml(src, serviceConfigSchema);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  let rig: RigSpec;
  let rigFile: string | undefined;
  if (typeof cfg.rig === 'string') {
    rigFile = at(cfg.rig);
    rig = validateYaml(readYamlSource(rigFile), rigFileSchema).rig;
  } else rig = validateYaml(src, rigSchema, cfg.rig, ['rig']);

  const problems: { key: string; reason: string }[] = [];
  const axes = legCountOf(rig.type) + (rig.yaw ? 1 : 0);
  let template: TemplateOptions | undefined;
  if (cfg.output.type === 'riglink') {
    const bw = checkRigLinkBandwidth(cfg.output.serial.baud, cfg.loop.rateHz, axes);
    if (!bw.ok) problems.push({ key: 'loop.rateHz', reason: bw.message });
  }
  if (cfg.output.type === 'template') {
    const t = cfg.output.template;
    const preset: TemplateOptions | undefined = t.preset === 'smc3' ? TEMPLATE_PRESETS.smc3 : t.preset === 'generic16' ? TEMPLATE_PRESETS.generic16(axes) : undefined;
    if (!preset && !t.template) problems.push({ key: 'output.template', reason: 'give a preset (smc3, generic16) or a template string' });
    else {
      template = {
        template: t.template ?? preset!.template,
        bits: t.bits ?? preset?.bits ?? 16,
        format: t.format ?? preset?.format ?? 'binary',
        start: t.start ?? preset?.start,
        stop: t.stop ?? preset?.stop,
      };
    }
  }
  if (cfg.relay.enabled && cfg.source.type === 'f1') problems.push({ key: 'relay.enabled', reason: 'the relay shares a GT7 console; F1 sends to every address you set in the game instead' });
  if (cfg.source.type === 'replay' && !cfg.source.replay.file) problems.push({ key: 'source.replay.file', reason: 'source.type replay needs a recording file (.mrrec or .lpr)' });
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => ({ file: src.file, line: undefined, ...p })));
  }
  // The state folder (the web page's token and recordings): systemd's StateDirectory, else the status file's folder, else the config's.
  const stateDir = process.env.STATE_DIRECTORY ? process.env.STATE_DIRECTORY.split(':')[0]! : cfg.status.file ? dirname(at(cfg.status.file)) : baseDir;
  return {
    ...cfg,
    file: src.file,
    rig,
    rigFile,
    template,
    profiles: { dir: at(cfg.profiles.dir), default: cfg.profiles.default },
    source: { ...cfg.source, replay: { ...cfg.source.replay, file: cfg.source.replay.file && at(cfg.source.replay.file) } },
    safety: { ...cfg.safety, estopFile: cfg.safety.estopFile && at(cfg.safety.estopFile) },
    status: { file: cfg.status.file && at(cfg.status.file) },
    web: { ...cfg.web, tokenFile: at(cfg.web.tokenFile ?? join(stateDir, 'web-token')), recordingsDir: at(cfg.web.recordingsDir ?? join(stateDir, 'recordings')) },
  };
}
