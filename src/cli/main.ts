#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runF1Decode, runF1Telemetry, runSimulateF1 } from './f1-commands.js';
import { SIMULATE_CONSOLE_FLAGS, runDecode, runDiscover, runRecord, runSimulateConsole, runTelemetry } from './gt7-commands.js';
import { ConfigError } from '../config/load-yaml.js';
import { runCue } from './cue-command.js';
import { runFit } from './fit-command.js';
import { runIk } from './ik-command.js';
import { runMcu } from './mcu-command.js';
import { runReport } from './report-command.js';
import { runCheckConfig, runClearEstop, runDemo, runService, runStatus } from './service-commands.js';
import { USAGE, UsageError } from './usage.js';

/** The only place that parses argv and prints for humans. */

const CLIENT_FLAGS = {
  console: { type: 'string' },
  discover: { type: 'boolean' },
  heartbeat: { type: 'string' },
  game: { type: 'string' },
  port: { type: 'string' },
  'console-port': { type: 'string' },
  broadcast: { type: 'string' },
} as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const controller = new AbortController();
  // SIGINT, SIGTERM and SIGHUP (a closed terminal) all mean: park and exit. A repeated one
  // while parking is noted and changes nothing: only SIGKILL ends the process without parking.
  // SIGHUP does not reload: config and profiles are reloaded when their files change.
  const onSignal = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) controller.abort();
    else process.stderr.write(`motion-rig: ${sig} again: still parking the rig (SIGKILL stops without parking)\n`);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  // Without a listener, SIGUSR1 opens Node's inspector on 127.0.0.1:9229: code execution
  // inside the process that owns the serial port.
  process.on('SIGUSR1', () => process.stderr.write('motion-rig: SIGUSR1 ignored (no inspector in this process)\n'));
  switch (command) {
    case 'demo': {
      const { values } = parseArgs({ args: rest, strict: true, options: { virtual: { type: 'boolean' }, json: { type: 'boolean' }, seconds: { type: 'string' } } });
      return runDemo(values, controller.signal);
    }
    case 'run': {
      const { values } = parseArgs({ args: rest, strict: true, options: { config: { type: 'string' }, set: { type: 'string', multiple: true } } });
      return runService(values, controller.signal);
    }
    case 'check-config': {
      const { values, positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: { set: { type: 'string', multiple: true } } });
      if (positionals.length !== 1) throw new UsageError('check-config takes exactly one FILE');
      return runCheckConfig(positionals[0]!, values);
    }
    case 'mcu': {
      const { values } = parseArgs({ args: rest, strict: true, options: { port: { type: 'string' }, baud: { type: 'string' }, seconds: { type: 'string' }, json: { type: 'boolean' } } });
      return runMcu(values, controller.signal);
    }
    case 'clear-estop': {
      const { values } = parseArgs({ args: rest, strict: true, options: { config: { type: 'string' }, status: { type: 'string' }, set: { type: 'string', multiple: true } } });
      return runClearEstop(values);
    }
    case 'status': {
      const { values } = parseArgs({
        args: rest,
        strict: true,
        options: { config: { type: 'string' }, status: { type: 'string' }, set: { type: 'string', multiple: true }, json: { type: 'boolean' }, once: { type: 'boolean' } },
      });
      return runStatus(values, controller.signal);
    }
    case 'telemetry': {
      const { values } = parseArgs({ args: rest, strict: true, options: { ...CLIENT_FLAGS, count: { type: 'string' }, json: { type: 'boolean' }, sender: { type: 'string' } } });
      if (values.game === 'f1') return runF1Telemetry(values, controller.signal);
      if (values.sender !== undefined) throw new UsageError('--sender is an F1 option (with --game f1)');
      return runTelemetry(values, controller.signal);
    }
    case 'decode': {
      const { values, positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: { json: { type: 'boolean' }, game: { type: 'string' } } });
      if (positionals.length !== 1) throw new UsageError('decode takes exactly one FILE');
      if (values.game === 'f1') return runF1Decode(positionals[0]!, values);
      if (values.game !== undefined && values.game !== 'gt7' && values.game !== 'gtsport') throw new UsageError(`--game must be gt7, gtsport or f1 (got "${values.game}")`);
      return runDecode(positionals[0]!, values);
    }
    case 'record': {
      const { values } = parseArgs({ args: rest, strict: true, options: { ...CLIENT_FLAGS, out: { type: 'string' }, duration: { type: 'string' }, sender: { type: 'string' } } });
      return runRecord(values, controller.signal);
    }
    case 'discover': {
      const { values } = parseArgs({ args: rest, strict: true, options: { broadcast: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } } });
      return runDiscover(values);
    }
    case 'simulate-console': {
      const { values } = parseArgs({ args: rest, strict: true, options: SIMULATE_CONSOLE_FLAGS });
      return runSimulateConsole(values, controller.signal);
    }
    case 'simulate-f1': {
      const { values } = parseArgs({
        args: rest,
        strict: true,
        options: {
          host: { type: 'string' },
          port: { type: 'string' },
          format: { type: 'string' },
          rate: { type: 'string' },
          phases: { type: 'string' },
          team: { type: 'string' },
          out: { type: 'string' },
          seconds: { type: 'string' },
        },
      });
      return runSimulateF1(values, controller.signal);
    }
    case 'cue': {
      const { values } = parseArgs({
        args: rest,
        strict: true,
        options: { profile: { type: 'string' }, input: { type: 'string' }, rate: { type: 'string' }, format: { type: 'string' }, plot: { type: 'string' }, out: { type: 'string' }, rig: { type: 'string' } },
      });
      return runCue(values);
    }
    case 'report': {
      const { values } = parseArgs({
        args: rest,
        strict: true,
        options: { input: { type: 'string', multiple: true }, profile: { type: 'string' }, rig: { type: 'string' }, rate: { type: 'string' }, json: { type: 'boolean' }, plot: { type: 'string' }, compare: { type: 'string' } },
      });
      return runReport(values);
    }
    case 'fit': {
      // A fit computes for a minute or more in one synchronous loop, where no signal handler
      // can run and nothing needs parking: SIGINT/SIGTERM/SIGHUP end it at once (the output
      // file is only written at the end).
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(sig, onSignal);
      const { values } = parseArgs({
        args: rest,
        strict: true,
        options: { rig: { type: 'string' }, input: { type: 'string', multiple: true }, base: { type: 'string' }, out: { type: 'string' }, rate: { type: 'string' }, evals: { type: 'string' }, seconds: { type: 'string' }, 'max-compressed': { type: 'string' } },
      });
      return runFit({ ...values, maxCompressed: values['max-compressed'] });
    }
    case 'ik': {
      const { values } = parseArgs({ args: rest, strict: true, options: { rig: { type: 'string' }, pose: { type: 'string' }, json: { type: 'boolean' } } });
      return runIk(values);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

// A closed pipe (`motion-rig decode f --json | head`) is a normal way to stop reading.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`motion-rig: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof ConfigError) {
      // A refused config or rig file: every problem as file:line: key: reason.
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`motion-rig: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
    // Whatever a failed start left behind (a socket, a thread) must not keep the process alive.
    setTimeout(() => process.exit(), 1000).unref();
  },
);
