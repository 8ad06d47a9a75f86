/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** A whole-number flag in min..max, or undefined when not given. */
export function intOption(name: string, value: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} wants a whole number ${min}..${max} (got "${value}")`);
  return n;
}

export const USAGE = `motion-rig — sim-racing motion platform service

Usage:
  motion-rig run --config FILE [--set key.path=value ...]
                                        the service (systemd runs this); SIGTERM parks and exits
  motion-rig check-config FILE [--set key.path=value ...]
                                        validate a config (and its rig and profiles) without running
  motion-rig status [--config FILE | --status FILE] [--json] [--once]
                                        the running service's state, live
  motion-rig clear-estop [--config FILE | --status FILE]
                                        re-arm after an e-stop whose trigger is gone
  motion-rig mcu --port PATH [--baud 500000] [--seconds N] [--json]
                                        the rig's MCU alone (the service stopped): HELLO, then its STATUS live;
                                        sends nothing that moves; with the calibration image, DC positions are
                                        the pots' ADC counts (docs/firmware.md, Calibration)
  motion-rig demo [--virtual] [--seconds N] [--json]
                                        the whole service on built-in defaults: console simulator →
                                        pipeline → RigLink over a socat pty → MCU simulator (npm start)
  motion-rig telemetry [--console ADDR | --discover] [--heartbeat A|B|~|C] [--count N] [--json]
                       [--port LOCAL_PORT] [--console-port PORT] [--broadcast ADDR] [--game gt7|gtsport]
                                        receives on UDP 33740 (GT Sport 33340), the only port a console
                                        sends to; --port is for tests (a real console ignores it)
  motion-rig telemetry --game f1 [--port 20777] [--sender ADDR] [--count N] [--json]
                                        F1 2018–2024 UDP telemetry (the game sends to this machine)
  motion-rig decode FILE [--json]       decode a recording or *.lpr file (encrypted or plaintext)
  motion-rig decode --game f1 FILE [--json]
                                        decode one raw F1 packet, an F1 *.lpr file or recording
  motion-rig record --out FILE [--console ADDR] [--heartbeat B] [--duration S]
  motion-rig record --game f1 --out FILE [--port 20777] [--duration S]
                                        raw datagrams with receive times, for decode, cue and replay
  motion-rig discover [--broadcast ADDR] [--timeout MS] [--json]
  motion-rig simulate-console [--recording FILE] [--port 33739] [--host ADDR] [--reply-port 33740]
                       [--phases drive:20,pause:3,menu:2,replay:5,silent:2] [--discovery-port 9302]
                                        a fake console: sends to port 33740 of each heartbeat's address,
                                        like a PS4/PS5 (--reply-port: tests only); run it on its own
                                        address (--host 127.0.0.2) beside a client on this machine
  motion-rig simulate-f1 [--host 127.0.0.1] [--port 20777] [--format 2018..2024] [--rate 60] [--team ID]
                       [--phases drive:20,pause:3,menu:2,replay:5,silent:2] [--out FILE.lpr --seconds 30]
                                        the synthetic lap as F1 packets, sent over UDP or written to a file
  motion-rig cue --input FILE [--profile FILE] [--rate 1000] [--format csv] [--out FILE] [--plot FILE.svg]
                 [--rig FILE]           cueing chain over a GT7 or F1 capture or CSV: t,x,y,z,roll,pitch,yaw per tick
                                        (with --rig, plus actuator values a1..aN after reachability)
  motion-rig report --input FILE [--input FILE ...] [--profile FILE] [--rig FILE] [--rate 1000] [--json]
                    [--plot FILE.svg] [--compare PROFILE2]
                                        cue quality on the service's own control tick: vehicle vs what the rig
                                        delivers, per channel, workspace use, one score (docs/report.md)
  motion-rig fit --rig FILE --input FILE [--input FILE ...] [--base PROFILE] --out FILE.yaml [--rate 1000]
                 [--evals 30] [--seconds S] [--max-compressed PCT]
                                        choose gains, tilt and washout settings for a rig by maximising report's
                                        score (compass search; progress on stderr); writes a commented profile
                                        (docs/fit.md); --max-compressed: less a point per % of ticks a channel is
                                        compressed > 10 % beyond PCT
  motion-rig ik --rig FILE --pose x,y,z,roll,pitch,yaw [--json]
                                        actuator values for one pose (m, rad; relative to neutral)
  motion-rig help
`;
