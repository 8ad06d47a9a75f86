import { createSocket, type Socket } from 'node:dgram';
import { silentLogger, type Logger } from '../../log.js';
import { FrameClock, type PhaseStep, type SimulatorPhase } from '../frame-clock.js';
import { SyntheticCar } from '../synthetic/car.js';
import { LAP_LENGTH } from '../synthetic/circuit.js';
import { STEERING_RATIO } from '../synthetic/drivetrain.js';
import { rotationFromPose } from '../../kinematics/rotation.js';
import { STANDARD_GRAVITY } from '../motion-sample.js';
import { CAR_SETUPS_2018, CAR_STATUS_2018, CAR_TELEMETRY_2018, EVENT_2018, LAP_DATA_2018, PARTICIPANTS_2018, SESSION_2018 } from './layout-2018.js';
import { MOTION_2018, MOTION_2019, MOTION_2020, MOTION_2023, MOTION_EX_2023, MOTION_EX_2024 } from './layout.js';
import { DEFAULT_F1_PORT, F1_FORMATS } from './packet.js';
import { type Decoded, type StructDef, encodeStruct, sizeOf } from './struct.js';

/**
 * A fake F1 game for tests and demos: the synthetic lap (the same car the GT7 console
 * simulator drives) sent as F1 UDP packets. Format 2018 sends all eight packet types at
 * the game's rates (motion, lap data, telemetry and status every frame; session and setups
 * twice a second; participants every 5 s; a session-start event); the later formats send
 * their motion packets (and motion-ex for F1 23/24). Only the player's car (index 0) moves.
 *
 * Phases map to what F1 can say: pause → session gamePaused and a frozen frame counter,
 * replay → spectating, menu → in the garage (lap data driver status 0), silent → nothing.
 */

export const SIMULATED_FORMATS = [2018, 2019, 2020, 2021, 2022, 2023, 2024] as const;
export type SimulatedFormat = (typeof SIMULATED_FORMATS)[number];

export interface F1PacketSourceOptions {
  format?: SimulatedFormat;
  rateHz?: number;
  /** Team id the participants packet names for the player (car id for profiles). */
  teamId?: number;
  sessionUID?: bigint;
}

function encode<S extends StructDef>(def: S, value: Decoded<S>): Uint8Array {
  const bytes = new Uint8Array(sizeOf(def));
  encodeStruct(def, value, new DataView(bytes.buffer));
  return bytes;
}

type Loose = Record<string, unknown>;

/** Builds the datagrams of one frame at a time, without sockets (also used to write captures). */
export class F1PacketSource {
  phase: SimulatorPhase = 'drive';
  readonly format: SimulatedFormat;
  readonly rateHz: number;
  private readonly drive: SyntheticCar;
  private readonly teamId: number;
  private readonly sessionUID: bigint;
  private readonly pose = new Float64Array(6);
  private readonly rotation = new Float64Array(9);
  private frame = 0;
  /** Frames generated, paused or not: the clock of the periodic packets. */
  private ticks = 0;
  private sessionTime = 0;

  constructor(opts: F1PacketSourceOptions = {}) {
    this.format = opts.format ?? 2018;
    this.rateHz = opts.rateHz ?? 60;
    this.teamId = opts.teamId ?? 0;
    this.sessionUID = opts.sessionUID ?? 0x5eed_f1_2018n;
    this.drive = new SyntheticCar({ rateHz: this.rateHz });
  }

  /** The datagrams for the next frame (empty while silent). */
  next(): Uint8Array[] {
    if (this.phase === 'silent') return [];
    const paused = this.phase === 'pause';
    this.drive.phase = this.phase === 'menu' ? 'pause' : this.phase;
    this.drive.step();
    const car = this.drive.readout;
    this.ticks++;
    // A paused game's clock and frame counter stand still.
    if (!paused) {
      this.frame++;
      this.sessionTime += 1 / this.rateHz;
    }
    const header = this.header();
    const st = this.drive.state;
    const out: Uint8Array[] = [];
    if (this.format === 2018 && this.frame === 1 && !paused) out.push(encode(EVENT_2018, { header: { ...header, packetId: 3 }, eventStringCode: 'SSTA' } as never));

    // Car axes from R = Rz(yaw)·Ry(pitch)·Rx(roll) (ISO world, z up), then into the F1
    // world: (x, y, z)_F1 = (x, z, −y)_ISO, right-handed with y up.
    // The car's axes are the columns of R (row-major): forward, left, up.
    this.pose[3] = st.roll;
    this.pose[4] = st.pitch;
    this.pose[5] = st.yaw;
    rotationFromPose(this.pose, 0, this.rotation);
    const m = this.rotation;
    const f1 = (x: number, y: number, z: number) => [x, z, -y];
    const F = f1(m[0]!, m[3]!, m[6]!);
    const L = f1(m[1]!, m[4]!, m[7]!);
    const U = f1(m[2]!, m[5]!, m[8]!);
    const R = L.map((x) => -x);
    const P = f1(st.position[0]!, st.position[1]!, st.position[2]!);
    const V = paused || this.phase === 'menu' ? [0, 0, 0] : f1(st.velocity[0]!, st.velocity[1]!, st.velocity[2]!);
    const moving = !paused && this.phase !== 'menu';
    const w = st.angularVelocity;
    // The car's measured acceleration (ISO body frame: x forward, y left, z up).
    const ax = moving ? car.acceleration[0]! : 0;
    const ay = moving ? car.acceleration[1]! : 0;
    const az = moving ? car.acceleration[2]! : 0;
    const player: Loose = {
      worldPositionX: P[0],
      worldPositionY: P[1],
      worldPositionZ: P[2],
      worldVelocityX: V[0],
      worldVelocityY: V[1],
      worldVelocityZ: V[2],
      worldForwardDirX: F[0],
      worldForwardDirY: F[1],
      worldForwardDirZ: F[2],
      worldRightDirX: R[0],
      worldRightDirY: R[1],
      worldRightDirZ: R[2],
      gForceLateral: ay / STANDARD_GRAVITY,
      gForceLongitudinal: ax / STANDARD_GRAVITY,
      gForceVertical: az / STANDARD_GRAVITY,
      yaw: Math.atan2(F[0]!, F[2]!),
      pitch: Math.asin(F[1]!),
      roll: Math.asin(-R[1]!),
    };
    const speed = Math.hypot(V[0]!, V[1]!, V[2]!);
    // Car-frame velocity x left, y up, z forward: projections on the car's axes.
    const dot = (a: number[], b: number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
    const vb = [dot(V, L), dot(V, U), dot(V, F)];
    const playerOnly: Loose = {
      suspensionPosition: [10, 10, 10, 10],
      suspensionVelocity: [0, 0, 0, 0],
      suspensionAcceleration: [0, 0, 0, 0],
      wheelSpeed: [speed, speed, speed, speed],
      wheelSlip: [0, 0, 0, 0],
      wheelSlipRatio: [0, 0, 0, 0],
      localVelocityX: vb[0],
      localVelocityY: vb[1],
      localVelocityZ: vb[2],
      angularVelocityX: moving ? w[1] : 0,
      angularVelocityY: moving ? w[2] : 0,
      angularVelocityZ: moving ? w[0] : 0,
      frontWheelsAngle: car.steeringWheel / STEERING_RATIO,
      heightOfCOGAboveGround: 0.3,
    };
    const cars = Array.from({ length: F1_FORMATS.get(this.format)!.cars }, (_, i) => (i === 0 ? player : {}));
    const motion = { header, carMotionData: cars, ...playerOnly } as Loose;
    switch (this.format) {
      case 2018:
        out.push(encode(MOTION_2018, motion as never));
        break;
      case 2019:
        out.push(encode(MOTION_2019, motion as never));
        break;
      case 2020:
      case 2021:
      case 2022:
        out.push(encode(MOTION_2020, motion as never));
        break;
      case 2023:
      case 2024:
        out.push(encode(MOTION_2023, motion as never));
        out.push(encode(this.format === 2023 ? MOTION_EX_2023 : MOTION_EX_2024, { ...playerOnly, header: { ...header, packetId: 13 } } as never));
        break;
    }
    if (this.format === 2018) out.push(...this.others2018(header, speed, car.throttle, car.brake, car.steeringWheel, car.gear, car.rpm));
    return out;
  }

  private header(): Loose {
    return {
      packetFormat: this.format,
      gameYear: this.format % 100,
      gameMajorVersion: 1,
      gameMinorVersion: 0,
      packetVersion: 1,
      packetId: 0,
      sessionUID: this.sessionUID,
      sessionTime: this.sessionTime,
      frameIdentifier: this.frame,
      overallFrameIdentifier: this.frame,
      playerCarIndex: 0,
      secondaryPlayerCarIndex: 255,
    };
  }

  private others2018(header: Loose, speed: number, throttle: number, brake: number, wheel: number, gear: number, rpm: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const h = (packetId: number) => ({ ...header, packetId });
    const everyS = (s: number) => (this.ticks - 1) % Math.max(1, Math.round(s * this.rateHz)) === 0;
    out.push(
      encode(LAP_DATA_2018, {
        header: h(2),
        lapData: [{ currentLapTime: this.sessionTime % 90, lapDistance: (this.drive.distanceDriven % LAP_LENGTH), totalDistance: this.drive.distanceDriven, carPosition: 1, currentLapNum: this.drive.state.lap, gridPosition: 1, driverStatus: this.phase === 'menu' ? 0 : 4, resultStatus: 2 }],
      } as never),
    );
    out.push(
      encode(CAR_TELEMETRY_2018, {
        header: h(6),
        carTelemetryData: [
          {
            speed: Math.round(speed * 3.6),
            throttle: Math.round((throttle / 255) * 100),
            // -100 full lock left … 100 full lock right (a 540° wheel here).
            steer: Math.max(-100, Math.min(100, Math.round((-wheel / (1.5 * Math.PI)) * 100))),
            brake: Math.round((brake / 255) * 100),
            gear,
            engineRPM: Math.round(rpm),
            revLightsPercent: Math.round(Math.min(100, (rpm / 8000) * 100)),
            brakesTemperature: [400, 400, 450, 450],
            tyresSurfaceTemperature: [90, 90, 92, 92],
            tyresInnerTemperature: [100, 100, 101, 101],
            engineTemperature: 105,
            tyresPressure: [21.5, 21.5, 23, 23],
          },
        ],
      } as never),
    );
    out.push(encode(CAR_STATUS_2018, { header: h(7), carStatusData: [{ fuelMix: 1, frontBrakeBias: 56, fuelInTank: 40, fuelCapacity: 105, maxRPM: 8000, idleRPM: 900, maxGears: 6, drsAllowed: 0 }] } as never));
    if (everyS(0.5)) {
      out.push(
        encode(SESSION_2018, {
          header: h(1),
          weather: 0,
          trackTemperature: 32,
          airTemperature: 24,
          totalLaps: 5,
          trackLength: Math.round(LAP_LENGTH),
          sessionType: 12,
          trackId: -1,
          sessionTimeLeft: 3600,
          sessionDuration: 3600,
          pitSpeedLimit: 80,
          gamePaused: this.phase === 'pause' ? 1 : 0,
          isSpectating: this.phase === 'replay' ? 1 : 0,
          spectatorCarIndex: this.phase === 'replay' ? 0 : 255,
          numMarshalZones: 0,
        } as never),
      );
      out.push(encode(CAR_SETUPS_2018, { header: h(5), carSetups: [{ frontWing: 5, rearWing: 5, onThrottle: 70, offThrottle: 60, brakePressure: 100, brakeBias: 56, frontTyrePressure: 23, rearTyrePressure: 21.5, fuelLoad: 40 }] } as never));
    }
    if (everyS(5)) {
      out.push(encode(PARTICIPANTS_2018, { header: h(4), numCars: 1, participants: [{ aiControlled: 0, driverId: 0, teamId: this.teamId, raceNumber: 1, nationality: 0, name: 'motion-rig' }] } as never));
    }
    return out;
  }
}

export interface F1SimulatorOptions extends F1PacketSourceOptions {
  /** Where the game sends to (the motion-rig machine). */
  host?: string;
  port?: number;
  /** Local address to send from. */
  bindAddress?: string;
  phases?: PhaseStep[];
  logger?: Logger;
}

/** Sends F1PacketSource frames over UDP at the frame rate to host:port. */
export class F1Simulator {
  readonly stats = { framesSent: 0, packetsSent: 0 };
  readonly source: F1PacketSource;
  private readonly clock: FrameClock;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: F1SimulatorOptions,
    log: Logger,
  ) {
    this.source = new F1PacketSource(opts);
    this.clock = new FrameClock(this.source.rateHz, () => this.frame(), (phase) => (this.source.phase = phase), log, opts.phases);
  }

  static async start(opts: F1SimulatorOptions = {}): Promise<F1Simulator> {
    const socket = createSocket({ type: 'udp4' });
    const log = (opts.logger ?? silentLogger).child({ component: 'f1-simulator' });
    const sim = new F1Simulator(socket, opts, log);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, opts.bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => log.error({ err }, 'f1 simulator socket error'));
    sim.clock.start();
    log.info({ host: sim.host, port: sim.port, format: sim.source.format, rateHz: sim.source.rateHz }, 'f1 simulator sending');
    return sim;
  }

  get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }

  get port(): number {
    return this.opts.port ?? DEFAULT_F1_PORT;
  }

  get currentPhase(): SimulatorPhase {
    return this.clock.phase;
  }

  /** Switch phase by hand (stops any phase script). */
  setPhase(phase: SimulatorPhase): void {
    this.clock.setPhase(phase);
  }

  private frame(): void {
    const datagrams = this.source.next();
    for (const d of datagrams) {
      this.socket.send(d, this.port, this.host);
      this.stats.packetsSent++;
    }
    if (datagrams.length > 0) this.stats.framesSent++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.stop();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
