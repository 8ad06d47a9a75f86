import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared-data.js';

/** Builds the reference C codec's host programs (make + the machine's C compiler) and returns their paths. */
export const FIRMWARE_DIR = join(REPO_ROOT, 'firmware-protocol');
export const C_BUILD = join(FIRMWARE_DIR, 'c', 'build');

export function buildFirmwareHostPrograms(): { vectorRunner: string; vectorRunnerCrcTable: string; fuzz: string; mcuSim: string; playoutRunner: string } {
  const r = spawnSync('make', ['-s', '-C', join(FIRMWARE_DIR, 'c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make -C firmware-protocol/c failed (is a C compiler installed?):\n${r.stdout}${r.stderr}`);
  return { vectorRunner: join(C_BUILD, 'vector_runner'), vectorRunnerCrcTable: join(C_BUILD, 'vector_runner_crc_table'), fuzz: join(C_BUILD, 'fuzz'), mcuSim: join(C_BUILD, 'mcu_sim'), playoutRunner: join(C_BUILD, 'playout_runner') };
}

/**
 * Runs the C playout engine (firmware-protocol/c/playout.c) through build/playout_runner on a
 * script of commands (see its header) and returns one answer line per command.
 */
export function runPlayout(runner: string, commands: string[], axes = 6): string[] {
  const r = spawnSync(runner, [String(axes)], { input: `${commands.join('\n')}\n`, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`playout_runner exited ${r.status}: ${r.stderr}`);
  const out = r.stdout.split('\n');
  out.pop();
  if (out.length !== commands.length) throw new Error(`playout_runner answered ${out.length} of ${commands.length} commands: ${r.stderr}`);
  return out;
}

/**
 * The libFuzzer build of the parser harness, or null (with the reason) when clang cannot
 * link libFuzzer here. Under CI=true a missing clang is a failure: .ci/run installs it.
 */
export function buildLibFuzzerHarness(): { path: string } | { missing: string } {
  const r = spawnSync('make', ['-s', '-C', join(FIRMWARE_DIR, 'c'), 'build/fuzz_libfuzzer'], { encoding: 'utf8' });
  if (r.status === 0) return { path: join(C_BUILD, 'fuzz_libfuzzer') };
  const why = `clang with libFuzzer could not build the harness (apt-get install clang):\n${r.stdout}${r.stderr}`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
  return { missing: why };
}
