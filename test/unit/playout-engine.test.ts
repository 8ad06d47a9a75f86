import { beforeAll, describe, expect, it } from 'vitest';
import { buildFirmwareHostPrograms, runPlayout } from '../helpers/firmware.js';
import { buildTimeline, xorshift } from '../helpers/playout-timeline.js';

/**
 * The C playout engine (firmware-protocol/c/playout.c, PROTOCOL.md §7.3) on timelines built
 * here: a host ticking at 1 kHz with wake-up jitter, a link, an MCU clock off by ppm. The
 * references are closed forms of the timeline (the ramp or sine the host sent, the drift we
 * put in), not anything the engine computes.
 */

let runner: string;
beforeAll(() => {
  runner = buildFirmwareHostPrograms().playoutRunner;
}, 120_000);

const P = 1000; // µs: 1 kHz
const D = 2000; // µs: the default delay
const six = (v: number) => [v, v, v, v, v, v];
const report = (line: string) => JSON.parse(line) as { lastTick: number; accepted: number; late: number; stale: number; outside: number; overflow: number; minLeadUs: number; rateAdjPpm: number };

describe('playout engine', () => {
  it('plays each tick exactly D after the anchor grid and interpolates linearly, whatever the jitter below D', () => {
    const rnd = xorshift(7);
    // Tick 0 and one in 20 go out on time (so every window's least-delayed frame is on the
    // anchor's grid and the grid never moves); the rest up to 1.8 ms late.
    const ramp = (k: number) => six((1000 + 37 * k) % 65536);
    const jitter = (k: number) => (k === 0 || rnd() < 0.05 ? 0 : Math.floor(rnd() * 1800));
    const tl = buildTimeline({ periodUs: P, frames: 1500, jitter, targets: ramp, queryEveryUs: 137 });
    const out = runPlayout(runner, ['config 1000000 2000', ...tl.commands, 'report']);
    const tA = tl.arrivals[0]!.t;
    const play = (k: number) => tA + k * P + D;
    let checked = 0;
    for (const q of tl.queries) {
      const got = out[q.index + 1]!;
      const u = (q.t - tA - D) / P; // the host tick due at this MCU time
      if (u < 0) {
        expect(got, `t=${q.t}`).toBe('none');
        continue;
      }
      const k = Math.floor(u);
      const next = tl.arrivals[k + 1];
      if (!next) continue;
      // Tick k reached at play(k); tick k+1 approached linearly from play(k), or from its
      // arrival if that was later (the target held tick k until then).
      const start = Math.max(play(k), next.t);
      const v = q.t < start ? 1000 + 37 * k : 1000 + 37 * k + (37 * (q.t - start)) / (play(k + 1) - start);
      for (const x of got.split(' ').map(Number)) expect(Math.abs(x - v), `t=${q.t} u=${u}`).toBeLessThanOrEqual(0.5 + 1e-9);
      checked++;
    }
    expect(checked).toBeGreaterThan(8000);
    const r = report(out.at(-1)!);
    expect(r).toMatchObject({ accepted: 1500, late: 0, stale: 0, outside: 0, overflow: 0, lastTick: 1499, rateAdjPpm: 0 });
  });

  for (const ppm of [300, -300, 5000, -5000]) {
    it(`follows an MCU clock ${ppm > 0 ? '+' : ''}${ppm} ppm off with no late frame once settled and no step in position`, () => {
      const rnd = xorshift(ppm + 100_000);
      // Wake-up lateness like this VM's: mostly < 0.2 ms, 10 % up to 1.5 ms, 0.1 % at 1.9 ms; the anchor frame 1 ms late.
      const jitter = (k: number) => {
        if (k === 0) return 1000;
        const x = rnd();
        return x < 0.001 ? 1900 : x < 0.1 ? Math.floor(rnd() * 1500) : Math.floor(rnd() * 200);
      };
      const sine = (k: number) => six(Math.round(32768 + 20000 * Math.sin((2 * Math.PI * k) / 1000)));
      const frames = 20_000;
      const tl = buildTimeline({ periodUs: P, frames, jitter, targets: sine, ppm, queryEveryUs: 250 });
      // A report after 3 s of host time: the settling phase is counted there.
      const settle = tl.arrivals.find((a) => a.tick === 3000)!.index!;
      const commands = ['config 1000000 2000', ...tl.commands.slice(0, settle), 'report', ...tl.commands.slice(settle), 'report'];
      const out = runPlayout(runner, commands);
      const early = report(out[settle + 1]!);
      const end = report(out.at(-1)!);
      expect(end.accepted).toBe(frames);
      expect(end.late - early.late, 'late frames after the first 3 s').toBe(0);
      expect(Math.abs(end.rateAdjPpm - ppm), `rate estimate ${end.rateAdjPpm} ppm`).toBeLessThanOrEqual(40);
      // Every frame played within [0, D] of its least-delayed siblings: lead never negative.
      expect(end.minLeadUs).toBeGreaterThanOrEqual(0);
      expect(end.minLeadUs).toBeLessThanOrEqual(D);
      // Continuity: between queries 250 µs apart the target moves no more than the sine does at
      // its steepest (20000·2π/1000 per ms) in one tick plus one query interval, with 2 % time
      // warp and rounding: a frame that arrives after the previous tick's play time compresses
      // its segment into the time left before its own, but never jumps (a late frame would:
      // held for a tick or more, then all at once).
      const maxStep = ((20000 * 2 * Math.PI) / 1000) * 1.25 * 1.02 + 2;
      let prev: number | undefined;
      let biggest = 0;
      for (const q of tl.queries) {
        const offset = q.index >= settle ? 2 : 1;
        const got = out[q.index + offset]!;
        if (got === 'none') continue;
        const v = Number(got.split(' ')[0]);
        if (prev !== undefined) biggest = Math.max(biggest, Math.abs(v - prev));
        prev = v;
      }
      expect(biggest).toBeLessThanOrEqual(maxStep);
    });
  }

  it('a frame later than its play time is counted late and played at once', () => {
    // Ticks 0..9 on time; the host stalls and sends 10, 11, 12 back to back at 13 ms.
    const cmds = ['config 1000000 2000'];
    for (let k = 0; k < 10; k++) cmds.push(`offer ${k * P} ${k} ${six(100 * k).join(' ')}`);
    for (const k of [10, 11, 12]) cmds.push(`offer ${13 * P} ${k} ${six(100 * k).join(' ')}`);
    cmds.push(`target ${13 * P}`, 'report');
    const out = runPlayout(runner, cmds);
    // Tick 10 plays at 12 ms: 1 ms late; 11 at 13 ms: just in time; 12 at 14 ms: early.
    expect(out.slice(11, 14)).toEqual(['late', 'accepted', 'accepted']);
    expect(out[14]).toBe(six(1100).join(' '));
    expect(report(out[15]!)).toMatchObject({ accepted: 13, late: 1, minLeadUs: -1000 });
  });

  it('drops stale, reordered, far-future, far-past and wrong-axis frames and counts them', () => {
    const cmds = ['config 1000000 2000'];
    for (let k = 0; k < 100; k++) cmds.push(`offer ${k * P} ${k} ${six(5000).join(' ')}`);
    const base = cmds.length;
    cmds.push(`offer ${99 * P + 10} 99 ${six(60000).join(' ')}`); // duplicate
    cmds.push(`offer ${99 * P + 20} 50 ${six(60000).join(' ')}`); // went back
    cmds.push(`offer ${99 * P + 30} ${2 ** 32 - 1} ${six(60000).join(' ')}`); // "far future" that is really −100 mod 2^32: stale
    cmds.push(`offer ${99 * P + 40} 200 ${six(60000).join(' ')}`); // 101 ms ahead
    cmds.push(`offer ${99 * P + 50} 111 ${six(60000).join(' ')}`); // 12 ms ahead > D + 8 P
    cmds.push(`offer ${99 * P + 60} 2000000000 ${six(60000).join(' ')}`); // wild
    cmds.push(`offer ${99 * P + 70} 100 1 2 3`); // 3 axes, not 6
    cmds.push(`offer ${(100 + 150) * P} 100 ${six(60000).join(' ')}`); // tick 100 sent 150 ms late: past
    cmds.push(`target ${(100 + 150) * P}`, 'report');
    const out = runPlayout(runner, cmds);
    expect(out.slice(base, base + 8)).toEqual(['stale', 'stale', 'stale', 'outside', 'outside', 'outside', 'outside', 'outside']);
    expect(out[base + 8]).toBe(six(5000).join(' '));
    expect(report(out[base + 9]!)).toMatchObject({ accepted: 100, lastTick: 99, stale: 3, outside: 5, late: 0 });
  });

  it('a flood is bounded by the queue: the rest is dropped as overflow or outside, never queued', () => {
    // Once playing (the anchor is no longer refined), 40 ticks at once.
    const cmds = ['config 1000000 2000', `offer 0 0 ${six(0).join(' ')}`, 'target 2000'];
    for (let k = 1; k <= 40; k++) cmds.push(`offer 2000 ${k} ${six(k).join(' ')}`);
    cmds.push('report');
    const out = runPlayout(runner, cmds);
    const r = report(out.at(-1)!);
    expect(r.accepted).toBe(8); // the queue holds 8 (CAPS queue)
    expect(r.overflow + r.outside).toBe(33);
    expect(r.overflow).toBeGreaterThan(0);
  });

  it('anchors afresh after 500 ms without an accepted frame, not before; the new anchor empties the queue', () => {
    // A host that restarted its tick counter: the frames still queued (1000, 1001) would land
    // after the new ones on the new time line (found by the fuzz test below).
    const cmds = ['config 1000000 2000', `offer 0 1000 ${six(1).join(' ')}`, `offer 1000 1001 ${six(4).join(' ')}`, `offer 100000 5 ${six(2).join(' ')}`, `offer 700000 5 ${six(3).join(' ')}`, 'target 701000', 'target 702000'];
    expect(runPlayout(runner, cmds).slice(1)).toEqual(['accepted', 'accepted', 'stale', 'accepted', 'none', six(3).join(' ')]);
  });

  it('fuzz: 1.2 million random configs, ticks, times (wrapping) and queries under ASan/UBSan: every target lies between two frames accepted one after the other', () => {
    const out = runPlayout(runner, [1, 2, 3, 4].map((seed) => `fuzz 300000 ${seed}`));
    for (const line of out) {
      const r = JSON.parse(line) as { outputs: number; violations: number; accepted: number; stale: number; outside: number; overflow: number; late: number };
      expect(r.violations, line).toBe(0);
      expect(r.outputs).toBeGreaterThan(50_000);
      for (const k of ['accepted', 'late', 'stale', 'outside', 'overflow'] as const) expect(r[k], `${k} exercised`).toBeGreaterThan(100);
    }
  });

  it('a first frame that came late in a burst (12 ticks read at once): the anchor moves to the newest, all accepted, the newest plays D after', () => {
    // Seen in the service bench under load: the simulator read 12 queued frames at once just
    // after ENABLE; anchored on the first, the rest looked 1-11 ms early and were dropped.
    const burst = Array.from({ length: 12 }, (_, i) => `offer 1000 ${100 + i} ${six(i).join(' ')}`);
    const out = runPlayout(runner, ['config 1000000 2000', ...burst, 'target 1000', 'target 3000', 'report']);
    expect(out.slice(1, 13)).toEqual(new Array(12).fill('accepted'));
    expect(out[13]).toBe(six(9).join(' ')); // tick 109's play time is now
    expect(out[14]).toBe(six(11).join(' '));
    expect(report(out[15]!)).toMatchObject({ accepted: 12, outside: 0, overflow: 0 });
  });

  it('refuses a period or delay outside its CAPS limits; period 0 turns playout off', () => {
    const out = runPlayout(runner, ['config 100000 2000', 'config 30000000 2000', 'config 1000000 0', 'config 1000000 20001', 'config 1000000 2000', 'config 0 0', `offer 0 0 ${six(1).join(' ')}`, 'target 5000']);
    expect(out).toEqual(['2', '2', '2', '2', '0', '0', 'outside', 'none']);
  });

  it('flush empties the queue: nothing queued before it plays after it', () => {
    const out = runPlayout(runner, ['config 1000000 2000', `offer 0 0 ${six(1).join(' ')}`, `offer 1000 1 ${six(2).join(' ')}`, 'flush', 'target 5000', `offer 5000 5 ${six(9).join(' ')}`, 'target 7000']);
    expect(out.slice(3)).toEqual(['ok', 'none', 'accepted', six(9).join(' ')]);
  });
});
