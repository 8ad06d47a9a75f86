import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { procStat, setThreadTimerSlack, threadPolicy } from '../../src/runtime/thread-scheduling.js';

const linux = existsSync('/proc/thread-self');

/**
 * Runs setThreadFifo in a fresh worker thread (never on the test's own thread) and returns what
 * it and the kernel said. The worker loads the built module (`npm test` builds first), as the
 * service's own control worker does.
 */
async function fifoInWorker(priority: number): Promise<{ result: { policy: number; priority: number; error?: string }; tid: number; after: unknown }> {
  const url = new URL('../../dist/src/runtime/thread-scheduling.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then((m) => {
      const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
      const result = m.setThreadFifo(workerData.priority);
      parentPort.postMessage({ result, tid, after: m.threadPolicy(tid) });
    });`;
  const w = new Worker(code, { eval: true, workerData: { url, priority } });
  try {
    return await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}

describe('thread scheduling', () => {
  it.skipIf(!linux)("setThreadTimerSlack sets the calling thread's slack, as the kernel reads it back", () => {
    const file = `/proc/${readlinkSync('/proc/thread-self').split('/').pop()}/timerslack_ns`;
    const before = Number(readFileSync(file, 'utf8'));
    try {
      expect(setThreadTimerSlack(1)).toBe(1);
      expect(Number(readFileSync(file, 'utf8'))).toBe(1);
      expect(setThreadTimerSlack(2500)).toBe(2500);
    } finally {
      setThreadTimerSlack(before);
    }
    expect(Number(readFileSync(file, 'utf8'))).toBe(before);
  });

  it.skipIf(!linux)('threadPolicy reads an ordinary thread as SCHED_OTHER, priority 0', () => {
    expect(threadPolicy()).toEqual({ policy: 0, priority: 0 });
  });

  it.skipIf(!linux)('setThreadFifo puts only the calling thread under SCHED_FIFO when allowed, and says why when not', async () => {
    const { result, tid, after } = await fifoInWorker(7);
    // Allowed with CAP_SYS_NICE in the effective set (root on CI; not root in a default
    // container) or an RLIMIT_RTPRIO of 7 or more.
    const capEff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
    const rtLimit = /Max realtime priority\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    const allowed = (capEff & (1n << 23n)) !== 0n || rtLimit === 'unlimited' || Number(rtLimit) >= 7;
    if (allowed) {
      expect(result).toEqual({ policy: 1, priority: 7 });
      expect(after).toEqual({ policy: 1, priority: 7 });
    } else {
      // Without root, CAP_SYS_NICE or RLIMIT_RTPRIO the kernel refuses and the thread stays ordinary.
      expect(result.error).toMatch(/\S/);
      expect(after).toEqual({ policy: 0, priority: 0 });
    }
    expect(tid).not.toBe(Number(readlinkSync('/proc/thread-self').split('/').pop()));
    // This thread was not touched.
    expect(threadPolicy()).toEqual({ policy: 0, priority: 0 });
  });
});

describe.skipIf(!linux)('procStat', () => {
  it('reads fields by their proc(5) number, after a name: this process\'s ppid (field 4) and name as Node and the kernel say; a gone file is undefined', () => {
    const stat = procStat('/proc/self/stat')!;
    expect(stat.field(4)).toBe(process.ppid);
    expect(stat.name).toBe(readFileSync('/proc/self/comm', 'utf8').trim());
    expect(stat.field(14) + stat.field(15)).toBeGreaterThanOrEqual(0);
    expect(procStat('/proc/self/task/0/stat')).toBeUndefined();
  });
});
