import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Control } from '../../src/runtime/slots.js';
import { EstopWatch } from '../../src/service/estop-watch.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The e-stop file's watcher on real files (inotify on a temp folder). The control step reads
 * Control.estopFile and Control.estopPulses once per tick; whatever the watcher sees must leave
 * a trace in them that a tick read after the file is gone still finds.
 */
describe('e-stop file watch', () => {
  const dirs: string[] = [];
  const watches: EstopWatch[] = [];
  afterEach(() => {
    for (const w of watches.splice(0)) w.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function start() {
    const dir = mkdtempSync(join(tmpdir(), 'motion-rig-estop-'));
    dirs.push(dir);
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'safety: { estop: false }\n');
    const control = new Int32Array(new SharedArrayBuffer(4 * Control.length));
    const file = join(dir, 'estop');
    const w = new EstopWatch(control, { file, configFile: config }, () => {});
    watches.push(w);
    return { control, file };
  }

  it('a file seen and then removed before a tick read the word still leaves a pulse (the control step latches on it)', async () => {
    const { control, file } = start();
    const pulses = Atomics.load(control, Control.estopPulses);
    writeFileSync(file, '');
    await waitFor(() => Atomics.load(control, Control.estopFile) === 1, 2000, 'the file seen');
    rmSync(file);
    await waitFor(() => Atomics.load(control, Control.estopFile) === 0, 2000, 'the file seen gone');
    // No tick read the word while it was 1: the pulse count is what tells the control step.
    expect(Atomics.load(control, Control.estopPulses)).toBeGreaterThan(pulses);
  });

  it('a file created and removed at once: a pulse, whichever way the watcher saw it', async () => {
    const { control, file } = start();
    for (let i = 0; i < 20; i++) {
      const pulses = Atomics.load(control, Control.estopPulses);
      writeFileSync(file, '');
      rmSync(file);
      await waitFor(() => Atomics.load(control, Control.estopPulses) > pulses, 2000, `pulse ${i}`);
      await waitFor(() => Atomics.load(control, Control.estopFile) === 0, 2000, 'the word back at 0');
    }
  });
});
