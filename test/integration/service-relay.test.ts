import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveSocat } from '../../src/service/pty-rig.js';
import { Gt7Client } from '../../src/telemetry/gt7/client.js';
import { buildCli } from '../helpers/cli.js';
import { buildFirmwareHostPrograms } from '../helpers/firmware.js';
import { ServiceRun } from '../helpers/service-run.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The relay inside the running service: the built-in console (127.0.0.2) streams C to the
 * service, which drives the rig as usual and, as a console would, streams A and B to two other
 * apps on 127.0.0.3 and 127.0.0.4 that point at the service's relay address. Byte-level
 * equality with the console's packets is proven in gt7-relay.test.ts; here: the apps get
 * packets that decrypt with their format's key and decode, the status file lists them, and the
 * rig goes online and stays there while it relays.
 */
describe.skipIf(!haveSocat() && process.env.CI !== 'true')('service with the GT7 relay on', () => {
  let mcuSim: string;
  const apps: Gt7Client[] = [];
  let run: ServiceRun | undefined;
  beforeAll(() => {
    if (!haveSocat()) throw new Error('socat is required under CI=true (.ci/run installs it)');
    buildCli();
    mcuSim = buildFirmwareHostPrograms().mcuSim;
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await run?.stop();
    if (run) rmSync(run.dir, { recursive: true, force: true });
  });

  it('two apps asking A and B get their formats from the console\'s C stream; the rig is online throughout', async () => {
    run = new ServiceRun(mcuSim, 'drive:600');
    run.writeConfig('drive:600', false, 'relay: { enabled: true, bind: 127.0.0.1 }');
    await run.start();
    await run.waitState('online', 20_000);
    for (const [address, heartbeat] of [['127.0.0.3', 'A'], ['127.0.0.4', 'B']] as const) {
      apps.push(await Gt7Client.start({ console: '127.0.0.1', consolePort: 33739, bindAddress: address, heartbeat, telemetryPort: 33740 }));
    }
    const seen = apps.map(() => 0);
    apps.forEach((a, i) => a.onTelemetry(() => {
      seen[i]!++;
    }));
    await waitFor(() => seen.every((n) => n >= 120), 10_000, `packets at the apps ${seen.join(', ')}`);
    type RelayStatus = { relay: { relayed: number } | null };
    // The status file is rewritten every 100 ms: wait for one that has caught up with the apps.
    await waitFor(() => ((run!.status() as unknown as RelayStatus).relay?.relayed ?? 0) >= 240, 3000, 'relay counters in the status file');
    const s = run.status() as unknown as { state: string; relay: { clients: { address: string; format: string; packets: number }[]; relayed: number; garbage: number }; telemetry: { ratePerS: number } };
    expect(s.state).toBe('online');
    expect(s.relay.clients.map((c) => `${c.address} ${c.format}`).sort()).toEqual(['127.0.0.3 A', '127.0.0.4 B']);
    expect(s.relay.relayed).toBeGreaterThanOrEqual(240);
    // The apps' own clients accepted them: right key, right magic, right size for the format asked.
    for (const a of apps) expect(a.stats.accepted).toBeGreaterThanOrEqual(120);
    expect(apps[0]!.stats.garbage + apps[1]!.stats.garbage).toBe(0);
    expect(run.states().map((x) => x.state)).not.toContain('fault');
  }, 60_000);
});
