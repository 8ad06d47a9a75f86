import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFirmwareHostPrograms, runPlayout } from '../helpers/firmware.js';
import { buildTimeline } from '../helpers/playout-timeline.js';

/**
 * A SETPOINT_TIMED outside the accepted window (PROTOCOL.md §7.3: a tick not newer than the
 * last accepted one, one further ahead than the delay plus the queue, one with the wrong axis
 * count) never moves a target: the C engine's playout targets with such frames injected
 * anywhere into a clean stream are identical, query for query, to the clean stream's, and
 * each injected frame is reported stale or outside.
 */

let runner: string;
beforeAll(() => {
  runner = buildFirmwareHostPrograms().playoutRunner;
}, 120_000);

type Kind = 'duplicate' | 'older' | 'wrapped' | 'future' | 'wild' | 'axes';
const injectionArb = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom<Kind>('duplicate', 'older', 'wrapped', 'future', 'wild', 'axes'),
  value: fc.constantFrom(0, 65535, 1, 32768),
  back: fc.integer({ min: 1, max: 1000 }),
  ahead: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

describe('playout accept window', () => {
  it('frames outside the window never change a playout target', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1000, 2000, 4000), // host period µs (1 kHz, 500 Hz, 250 Hz)
        fc.integer({ min: 500, max: 5000 }), // delay µs
        fc.integer({ min: 0, max: 2 ** 31 }), // jitter seed
        fc.integer({ min: -5000, max: 5000 }), // MCU clock ppm
        fc.array(injectionArb, { minLength: 1, maxLength: 20 }),
        (period, delay, seed, ppm, injections) => {
          let s = seed | 1;
          const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
          const frames = 300;
          const tl = buildTimeline({
            periodUs: period,
            frames,
            jitter: () => Math.floor(rnd() * delay * 0.9),
            targets: (k) => [(k * 97) % 65536, (k * 31 + 5000) % 65536, 40000],
            ppm,
            queryEveryUs: Math.round(period / 3),
          });
          const config = `config ${period * 1000} ${delay}`;
          const clean = runPlayout(runner, [config, ...tl.commands], 3);
          // Inject after the frame at position `at`, at its arrival time (+1 µs).
          const after = new Map<number, typeof injections>();
          for (const inj of injections) {
            const i = inj.at % frames;
            after.set(i, [...(after.get(i) ?? []), inj]);
          }
          const mixed: string[] = [config];
          const injectedAt: number[] = [];
          const cleanIndex: number[] = [];
          let lastTick = -1;
          for (const cmd of tl.commands) {
            cleanIndex.push(mixed.length);
            mixed.push(cmd);
            if (!cmd.startsWith('offer ')) continue;
            const [, tStr, tickStr] = cmd.split(' ');
            const t = Number(tStr);
            const tick = Number(tickStr);
            const accepted = clean[mixed.length - 1 - injectedAt.length] !== 'stale';
            if (accepted) lastTick = Math.max(lastTick, tick);
            for (const inj of after.get(tick) ?? []) {
              const v = inj.value;
              let badTick: number;
              let targets = [v, v, v];
              switch (inj.kind) {
                case 'duplicate': badTick = lastTick; break;
                case 'older': badTick = Math.max(0, lastTick - inj.back); break;
                case 'wrapped': badTick = (lastTick - inj.back + 2 ** 32) % 2 ** 32; break;
                case 'future': badTick = lastTick + Math.ceil((delay + 8 * period * 1.03) / period) + 2 + inj.back; break;
                case 'wild': badTick = (lastTick + 2 ** 30 + (inj.ahead % 2 ** 30)) % 2 ** 32; break;
                case 'axes': badTick = lastTick + 1; targets = [v, v]; break;
              }
              if (lastTick < 0) continue;
              injectedAt.push(mixed.length);
              mixed.push(`offer ${t} ${badTick} ${targets.join(' ')}`);
            }
          }
          const got = runPlayout(runner, mixed, 3);
          for (const i of injectedAt) expect(['stale', 'outside'], mixed[i]).toContain(got[i]);
          // Every clean command answers the same, targets included.
          for (let j = 0; j < tl.commands.length; j++) expect(got[cleanIndex[j]!], tl.commands[j]).toBe(clean[j + 1]);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
