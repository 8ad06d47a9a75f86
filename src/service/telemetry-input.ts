import type { ServiceConfig } from '../config/service-config.js';
import type { Logger } from '../log.js';
import { SeqlockSlot } from '../runtime/shared-slot.js';
import { Sample, type SharedBuffers, packSample } from '../runtime/slots.js';
import { F1Client } from '../telemetry/f1/client.js';
import { parsePhases } from '../telemetry/frame-clock.js';
import { Gt7Client } from '../telemetry/gt7/client.js';
import { ConsoleSimulator } from '../telemetry/gt7/console-simulator.js';
import { Gt7Relay, type Gt7RelayStats } from '../telemetry/gt7/relay.js';
import type { MotionSample } from '../telemetry/motion-sample.js';
import { readCapture } from '../telemetry/recording.js';

/**
 * The service's telemetry: the configured source (GT7 console, F1 game, built-in console
 * simulator or a recording replayed through it), each sample packed into the sample slot for
 * the control worker, and car changes reported for profile matching. Car changes are logged
 * at most once a second (a source whose car id changes on every packet would otherwise log
 * every packet), with how many were not logged.
 */
/** Where the built-in console simulator runs (a loopback address of its own). */
const SIMULATOR_ADDRESS = '127.0.0.2';

export class TelemetryInput {
  carId = -1;
  private readonly slot: SeqlockSlot;
  private readonly values = new Float64Array(Sample.length);
  private client: Gt7Client | F1Client | undefined;
  private simulator: ConsoleSimulator | undefined;
  private relay: Gt7Relay | undefined;
  private lastCarLogMs = -Infinity;
  private carChangesNotLogged = 0;

  constructor(
    buffers: SharedBuffers,
    private readonly log: Logger,
    private readonly onCar: (carId: number) => string,
  ) {
    this.slot = new SeqlockSlot(buffers.sample);
  }

  /** Binds the source's socket; rejects (one clear message) when it cannot. */
  async start(c: ServiceConfig): Promise<void> {
    if (c.source.type === 'f1') {
      const f1 = await F1Client.start({ port: c.source.f1.port, bindAddress: c.source.f1.bind, sender: c.source.f1.sender, logger: this.log });
      this.client = f1;
      this.log.info({ event: 'telemetry', source: 'f1', port: f1.port, sender: c.source.f1.sender ?? 'first to send' }, `telemetry: F1 on UDP ${f1.port}`);
      f1.onTelemetry((t) => this.onSample(t.sample, t.receiveTimeNs));
      return;
    }
    const gt7 = c.source.gt7;
    let console = gt7.console;
    let consolePort: number | undefined;
    let bindAddress = gt7.bind;
    if (c.source.type === 'simulator' || c.source.type === 'replay') {
      // The built-in console behaves like a PS5: it answers to port 33740 of the heartbeat's
      // address. It lives on its own loopback address so nothing else needs a free port.
      this.simulator = await ConsoleSimulator.start({
        host: SIMULATOR_ADDRESS,
        port: 0,
        replyPort: gt7.telemetryPort,
        discoveryPort: null,
        phases: c.source.type === 'simulator' ? parsePhases(c.source.simulator.phases) : undefined,
        recording: c.source.type === 'replay' ? readCapture(c.source.replay.file!) : undefined,
        logger: this.log,
      });
      console = SIMULATOR_ADDRESS;
      consolePort = this.simulator.port;
      if (bindAddress === '0.0.0.0') bindAddress = '127.0.0.1';
    }
    // With the relay on, the console is asked for C, the richest format, which holds every
    // field of A, B and ~ at the same offsets: each app gets its format cut from it.
    if (c.relay.enabled) {
      this.relay = await Gt7Relay.start({ bind: c.relay.bind, maxClients: c.relay.maxClients, logger: this.log });
      this.log.info({ event: 'relay', bind: c.relay.bind, port: this.relay.port, maxClients: c.relay.maxClients }, `GT7 relay: other apps can use ${c.relay.bind}:${this.relay.port} as their console`);
    }
    const discover = console === 'discover';
    this.client = await Gt7Client.start({
      console: discover ? undefined : console,
      discover,
      consolePort,
      bindAddress,
      heartbeat: c.relay.enabled ? 'C' : c.source.type === 'gt7' ? gt7.heartbeat : 'B',
      telemetryPort: gt7.telemetryPort,
      logger: this.log,
    });
    this.log.info({ event: 'telemetry', source: c.source.type, console, port: this.client.port }, `telemetry: ${c.source.type}`);
    const relay = this.relay;
    this.client.onTelemetry((t) => {
      this.onSample(t.sample, t.receiveTimeNs);
      // After the sample is in the control worker's slot: relaying never delays the rig.
      relay?.relay(t.plaintext, t.receiveTimeNs);
    });
  }

  /**
   * Every datagram as received (for a recording: the same bytes `motion-rig record` keeps),
   * with what the recording's header says about it; undefined before start.
   */
  tapRaw(listener: (datagram: Buffer, receiveTimeNs: number) => void): { stop: () => void; game: 'gt7' | 'f1'; heartbeat: string | undefined } | undefined {
    const c = this.client;
    if (c === undefined) return undefined;
    const stop = c.onRawDatagram(listener);
    return c instanceof F1Client ? { stop, game: 'f1', heartbeat: undefined } : { stop, game: 'gt7', heartbeat: c.heartbeat };
  }

  /** The relay's counters (undefined when it is off). */
  relayStats(): Gt7RelayStats | undefined {
    return this.relay?.stats();
  }

  async close(): Promise<void> {
    await this.relay?.close();
    await this.client?.close();
    await this.simulator?.close();
  }

  private onSample(sample: MotionSample, receiveTimeNs: number): void {
    packSample(sample, performance.timeOrigin + receiveTimeNs / 1e6, this.values);
    this.slot.write(this.values);
    if (sample.carId !== this.carId && sample.carId !== -1) this.carChanged(sample.carId);
  }

  private carChanged(carId: number): void {
    this.carId = carId;
    const profile = this.onCar(carId);
    const now = performance.now();
    if (now - this.lastCarLogMs < 1000) {
      this.carChangesNotLogged++;
      return;
    }
    this.log.info({ event: 'car', carId, profile, notLogged: this.carChangesNotLogged }, `car ${carId}: profile ${profile}`);
    this.lastCarLogMs = now;
    this.carChangesNotLogged = 0;
  }
}
