import { once } from 'node:events';
import * as net from 'node:net';
import { closeAbruptly } from './tcp-proxy';

/** A loopback server and a socket connected to it; the server's side of each connection is kept to see what arrives. */
async function connectedPair(): Promise<{ socket: net.Socket; peer: Promise<net.Socket>; close(): Promise<void> }> {
  let accepted: (s: net.Socket) => void = () => undefined;
  const peer = new Promise<net.Socket>((resolve) => (accepted = resolve));
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    accepted(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  return {
    socket,
    peer,
    async close() {
      (await peer).destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves with the socket's 'close', or fails after `ms` (a socket that never closes holds the process at exit). */
function closed(socket: net.Socket, ms = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the socket did not close within ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('closeAbruptly', () => {
  test('a socket whose end is under way (its shutdown pending) closes, with no error', async () => {
    const pair = await connectedPair();
    const errors: Error[] = [];
    pair.socket.on('error', (e) => errors.push(e));
    pair.socket.end();
    // The shutdown request is now with libuv, until the next poll: a reset here fails with
    // EINVAL and the socket never closes.
    await new Promise<void>((resolve) => process.nextTick(resolve));
    const done = closed(pair.socket);
    closeAbruptly(pair.socket);
    await done;
    expect(errors).toEqual([]);
    await pair.close();
  });

  test('an open socket is reset: its peer sees ECONNRESET', async () => {
    const pair = await connectedPair();
    const peer = await pair.peer;
    const peerError = once(peer, 'error').then(([e]) => e as NodeJS.ErrnoException);
    const done = closed(pair.socket);
    closeAbruptly(pair.socket);
    await done;
    expect((await peerError).code).toBe('ECONNRESET');
    await pair.close();
  });
});
