import * as net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 (a port the OS chooses) in front of `target`, which a test can cut
 * and restore: what a database restart or failover looks like to its clients. `cut()` resets
 * every open connection (both sides destroyed, as a RST would) and refuses new ones until
 * `restore()`.
 */
export interface TcpProxy {
  readonly port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * Ends a socket abruptly: a reset (RST) where the socket can still send one, a plain destroy once
 * its own end is under way. A reset while the socket's shutdown is pending (pipe() ends one side
 * when the other ends) fails in libuv (EINVAL) and leaves its handle half-closed for good: node's
 * exit-time cleanup (Environment::CleanupHandles) then spins on it instead of exiting.
 */
export function closeAbruptly(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) {
      closeAbruptly(client);
      return;
    }
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const end = (): void => {
      open.delete(client);
      open.delete(upstream);
      closeAbruptly(client);
      closeAbruptly(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cut = (): void => {
    up = false;
    for (const s of [...open]) closeAbruptly(s);
    open.clear();
  };
  return {
    port,
    cut,
    restore() {
      up = true;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
