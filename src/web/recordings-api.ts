import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ServiceConfig } from '../config/service-config.js';
import type { Logger } from '../log.js';
import type { ConfigWatch } from '../service/config-watch.js';
import type { TelemetryInput } from '../service/telemetry-input.js';
import { Recorder } from '../telemetry/recording.js';
import type { Reply, Route } from './api.js';
import { PathRefused, RECORDING_FILES, fileInside } from './path-guard.js';
import { checkProfileEdit } from './profile-api.js';
import type { ReportJob, ReportResult } from './report-worker.js';

/**
 * Recordings from the page: start and stop a recording of the telemetry the service receives
 * (the datagrams as `motion-rig record` keeps them, .mrrec), list the recordings folder, and
 * run `report` on one with the running profile (A) and an edited profile text (B), on a
 * worker thread. Starting, stopping and reports need the token (they write files or take
 * seconds of CPU); only plain .mrrec/.lpr names directly in the folder can be named. A
 * recording stops by itself after MAX_SECONDS, so a forgotten one cannot fill the disk.
 */
export const MAX_RECORDING_SECONDS = 30 * 60;
const REPORT_TIMEOUT_MS = 120_000;

interface Active {
  name: string;
  recorder: Recorder;
  stop: () => void;
  started: number;
  timer: NodeJS.Timeout;
}

export function recordingRoutes(o: { config: ServiceConfig; telemetry: TelemetryInput; watch: ConfigWatch; log: Logger }): { routes: Route[]; close: () => Promise<void> } {
  const dir = o.config.web.recordingsDir;
  let active: Active | undefined;
  let reportRunning = false;
  /** The last recording that ended on a write error (a full disk): the page shows it until the next start. */
  let failed: { name: string; error: string; at: string } | undefined;
  const bad = (status: number, error: string): Reply => ({ status, body: { error } });
  const describe = () => (active ? { name: active.name, packets: active.recorder.count, bytes: active.recorder.bytes, dropped: active.recorder.dropped, seconds: Math.round((Date.now() - active.started) / 1000) } : null);

  /** Ends the active recording (the tap first, so nothing more is written); the close never rejects. */
  const finish = async (a: Active): Promise<void> => {
    if (active === a) active = undefined;
    a.stop();
    clearTimeout(a.timer);
    await a.recorder.close();
  };
  const stop = async (): Promise<Reply> => {
    const a = active;
    if (!a) return bad(409, 'not recording');
    await finish(a);
    const r = a.recorder;
    if (r.error) return bad(500, `recording ${a.name} failed: ${r.error.message}`);
    o.log.info({ event: 'web-recording-stopped', file: join(dir, a.name), packets: r.count, dropped: r.dropped }, `recording ${a.name} stopped: ${r.count} packets`);
    return { status: 200, body: { ok: true, stopped: a.name, packets: r.count, bytes: r.bytes, dropped: r.dropped } };
  };
  /** A write error (disk full, device gone): the recording ends, one event is logged, the page sees it in GET /api/recordings. */
  const onRecorderError = (name: string, err: Error) => {
    failed = { name, error: err.message, at: new Date().toISOString() };
    o.log.error({ event: 'web-recording-failed', file: join(dir, name), err: err.message }, `recording ${name} stopped: ${err.message}`);
    if (active?.name === name) void finish(active);
  };

  const routes: Route[] = [
    {
      method: 'GET', path: '/api/recordings', token: false, handle: async () => {
        let files: { name: string; bytes: number; modified: string }[] = [];
        try {
          const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && RECORDING_FILES.pattern.test(e.name)).map((e) => e.name);
          files = await Promise.all(names.map(async (name) => {
            const st = await stat(join(dir, name));
            return { name, bytes: st.size, modified: st.mtime.toISOString() };
          }));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        files.sort((a, b) => b.modified.localeCompare(a.modified));
        return { status: 200, body: { dir, recording: describe(), failed: failed ?? null, files } };
      },
    },
    {
      method: 'POST', path: '/api/recordings/start', token: true, handle: async () => {
        const busy = () => (active ? bad(409, `already recording ${active.name}`) : undefined);
        if (busy()) return busy()!;
        try {
          await mkdir(dir, { recursive: true });
        } catch (err) {
          return bad(500, `cannot record into ${dir}: ${(err as Error).message}`);
        }
        if (busy()) return busy()!; // another start ran while mkdir awaited
        const stamp = `rig-${new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 23)}`;
        // The header needs the tap's game and heartbeat: the recorder comes second.
        const to: { recorder?: Recorder } = {};
        const tap = o.telemetry.tapRaw((d, t) => to.recorder?.write(d, t));
        if (!tap) return bad(409, 'telemetry is not running');
        // Milliseconds in the name, opened with 'wx' and a counter on a clash: a quick restart
        // never overwrites the recording before it.
        let recorder: Recorder | undefined;
        let name = '';
        for (let n = 0; recorder === undefined; n++) {
          name = `${stamp}${n === 0 ? '' : `-${n}`}.mrrec`;
          const named = name;
          try {
            recorder = new Recorder(join(dir, name), { game: tap.game, heartbeat: tap.heartbeat, flags: 'wx', onError: (err) => onRecorderError(named, err) });
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EEXIST' && n < 20) continue;
            tap.stop();
            return bad(500, `cannot record into ${dir}: ${(err as Error).message}`);
          }
        }
        failed = undefined;
        to.recorder = recorder;
        const timer = setTimeout(() => {
          stop().catch((err: Error) => o.log.error({ event: 'web-recording-failed', err: err.message }, `stopping the recording failed: ${err.message}`));
        }, MAX_RECORDING_SECONDS * 1000);
        active = { name, recorder, stop: tap.stop, started: Date.now(), timer };
        o.log.info({ event: 'web-recording-started', file: join(dir, name) }, `recording ${name} started from the web page`);
        return { status: 200, body: { ok: true, recording: describe() } };
      },
    },
    { method: 'POST', path: '/api/recordings/stop', token: true, handle: stop },
    {
      method: 'POST', path: '/api/report', token: true, handle: async (r) => {
        let b: { recording?: unknown; profile?: unknown; text?: unknown };
        try {
          b = JSON.parse(r.body) as typeof b;
        } catch {
          b = {};
        }
        if (typeof b.recording !== 'string' || typeof b.profile !== 'string' || typeof b.text !== 'string') return bad(400, 'give {"recording": FILE, "profile": FILE, "text": YAML}');
        if (reportRunning) return bad(409, 'a report is running; one at a time');
        // Taken before the first await: a second request arriving while this one checks the
        // profile (the loader, tens of ms) must see it.
        reportRunning = true;
        let input: string;
        try {
          input = await fileInside(dir, b.recording, RECORDING_FILES);
          const c = await checkProfileEdit({ dir: o.config.profiles.dir, defaultName: o.config.profiles.default, rateHz: o.config.loop.rateHz }, b.profile, b.text);
          if (!c.ok) return { status: 422, body: { ok: false, problems: c.problems, error: c.problems[0]?.message } };
          const edited = [c.set.base, ...c.set.cars].find((p) => basename(p.file) === b.profile)!;
          const running = o.watch.profile;
          const job: ReportJob = {
            reportWorker: true, input, rig: o.config.rig, rigFile: o.config.rigFile ?? '(inline in the config)', rateHz: o.config.loop.rateHz,
            a: { name: `running: ${running.name}`, cue: running.cue }, b: { name: `edited: ${b.profile}`, cue: edited.cue },
          };
          const result = await runReport(job);
          return result.ok ? { status: 200, body: result } : bad(422, result.error);
        } catch (err) {
          if (err instanceof PathRefused) return bad(403, err.message);
          throw err;
        } finally {
          reportRunning = false;
        }
      },
    },
  ];
  /** The service stops: a recording still running is closed (flushed). */
  const close = async () => {
    if (active) await stop();
  };
  return { routes, close };
}

function runReport(job: ReportJob): Promise<ReportResult> {
  return new Promise((resolve) => {
    const w = new Worker(new URL('./report-worker.js', import.meta.url), { workerData: job });
    const timer = setTimeout(() => {
      void w.terminate();
      resolve({ ok: false, error: `the report took longer than ${REPORT_TIMEOUT_MS / 1000} s` });
    }, REPORT_TIMEOUT_MS);
    w.once('message', (m: ReportResult) => {
      clearTimeout(timer);
      resolve(m);
      void w.terminate();
    });
    w.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, error: err.message });
    });
    // A worker that ends without a message or an error (its process ran out of memory, say)
    // must not leave the page waiting for the timeout. After a message this changes nothing.
    w.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `the report stopped (exit code ${code}) without a result` });
    });
  });
}
