import { createSocket } from 'node:dgram';

/**
 * PlayStation discovery: a UDP broadcast of `SRCH * HTTP/1.1` to port 9302 (PS5) and 987
 * (PS4). The console answers with an HTTP-like reply: status 200 when on, 620 in standby.
 */

export const DISCOVERY_PORTS = { ps5: 9302, ps4: 987 } as const;
const PROTOCOL_VERSION = { ps5: '00030010', ps4: '00020020' } as const;

export function searchRequest(kind: 'ps5' | 'ps4'): Buffer {
  return Buffer.from(`SRCH * HTTP/1.1\ndevice-discovery-protocol-version:${PROTOCOL_VERSION[kind]}\n`, 'utf8');
}

export interface ConsoleInfo {
  address: string;
  status: 'on' | 'standby';
  statusCode: number;
  hostType?: string;
  hostName?: string;
  hostId?: string;
  systemVersion?: string;
  runningAppName?: string;
  runningAppTitleId?: string;
}

export class DiscoveryError extends Error {
  constructor(
    message: string,
    readonly console?: ConsoleInfo,
  ) {
    super(message);
  }
}

/** Parses a discovery reply; undefined for anything that is not one. */
export function parseDiscoveryReply(text: string, address: string): ConsoleInfo | undefined {
  const lines = text.split(/\r?\n/);
  const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
  if (!status) return undefined;
  const code = Number(status[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return {
    address,
    status: code === 620 ? 'standby' : 'on',
    statusCode: code,
    hostType: headers.get('host-type'),
    hostName: headers.get('host-name'),
    hostId: headers.get('host-id'),
    systemVersion: headers.get('system-version'),
    runningAppName: headers.get('running-app-name'),
    runningAppTitleId: headers.get('running-app-titleid'),
  };
}

export interface DiscoveryOptions {
  /** Where to send the search; a loopback address lets tests run without a network. */
  broadcastAddress?: string;
  /** Ports to search, PS5 first. */
  ports?: { ps5?: number; ps4?: number };
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Finds the first PlayStation that answers. Rejects with a DiscoveryError when none does, or
 * when the one that answers is in standby (it sends no telemetry until woken).
 */
export function discoverPlayStation(opts: DiscoveryOptions = {}): Promise<ConsoleInfo> {
  const address = opts.broadcastAddress ?? '255.255.255.255';
  const ps5 = opts.ports?.ps5 ?? DISCOVERY_PORTS.ps5;
  const ps4 = opts.ports?.ps4 ?? DISCOVERY_PORTS.ps4;
  const timeoutMs = opts.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    let done = false;
    const finish = (err: Error | undefined, info?: ConsoleInfo) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err) reject(err);
      else resolve(info!);
    };
    const onAbort = () => finish(new DiscoveryError('discovery aborted'));
    const timer = setTimeout(
      () => finish(new DiscoveryError(`no PlayStation answered a discovery search to ${address} (ports ${ps5}, ${ps4}) within ${timeoutMs} ms; is it on and on this network? Give its address with --console to skip discovery.`)),
      timeoutMs,
    );
    opts.signal?.addEventListener('abort', onAbort);
    socket.on('error', (err) => finish(new DiscoveryError(`discovery socket error: ${err.message}`)));
    socket.on('message', (msg, rinfo) => {
      const info = parseDiscoveryReply(msg.toString('utf8'), rinfo.address);
      if (!info) return;
      if (info.status === 'standby') {
        finish(new DiscoveryError(`PlayStation ${info.hostName ?? ''} at ${info.address} is in standby (status ${info.statusCode}); wake it and start the game`.replace('  ', ' '), info));
      } else {
        finish(undefined, info);
      }
    });
    socket.bind(0, () => {
      socket.setBroadcast(true);
      socket.send(searchRequest('ps5'), ps5, address);
      socket.send(searchRequest('ps4'), ps4, address);
    });
  });
}
