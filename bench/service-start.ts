import { parseServiceConfig } from '../src/config/service-config.js';
import { rigFromSpec } from '../src/kinematics/rig.js';
import { silentLogger } from '../src/log.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { PtyRig, buildMcuSim, haveSocat, mcuSimArgs } from '../src/service/pty-rig.js';
import { MotionService } from '../src/service/service.js';

/**
 * The running service for the benches (bench/service.ts, bench/web.ts): its config from
 * `text(output, serialPath)` (paths relative to the package), with RigLink over a socat pty to
 * the C MCU simulator when `output` is riglink and socat is there, else the in-process
 * virtual rig. Started; the caller stops the service, then the pty.
 */
export async function startBenchService(text: (output: string, path: string) => string, dir: string, output: string): Promise<{ service: MotionService; pty: PtyRig | undefined }> {
  let cfg = parseServiceConfig(text('virtual', '-'), '(bench)', [], PACKAGE_ROOT);
  let pty: PtyRig | undefined;
  const sim = output === 'riglink' && haveSocat() ? buildMcuSim() : undefined;
  if (sim && 'path' in sim) {
    pty = new PtyRig(sim.path, mcuSimArgs(rigFromSpec(cfg.rig)), dir);
    await pty.start();
    cfg = parseServiceConfig(text('riglink', pty.host), '(bench)', [], PACKAGE_ROOT);
  }
  const service = new MotionService(cfg, silentLogger);
  await service.start();
  return { service, pty };
}
