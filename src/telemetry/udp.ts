import type { Socket } from 'node:dgram';

/** A telemetry port another program holds; the message is the one line to print. */
export class TelemetryPortInUse extends Error {
  constructor(
    readonly port: number,
    readonly address: string,
    message: string,
  ) {
    super(message);
    this.name = 'TelemetryPortInUse';
  }
}

/**
 * Binds `socket` to address:port. On failure the socket is closed (nothing half-open is
 * left behind) and the promise rejects: with `inUse(port, address)` when the port is taken
 * (EADDRINUSE) and that is given, otherwise with the socket's own error.
 */
export function bindUdp(socket: Socket, port: number, address: string, inUse?: (port: number, address: string) => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      socket.close();
      reject(err.code === 'EADDRINUSE' && inUse ? inUse(port, address) : err);
    };
    socket.once('error', fail);
    socket.bind(port, address, () => {
      socket.off('error', fail);
      resolve();
    });
  });
}
