import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { processCpuSeconds } from './cpu-meter';

/** The HTTP floor server (http-floor-server.ts) in a process of its own, as the Join Server is. */
export interface HttpFloorServer {
  readonly url: string;
  /** CPU time the floor server has used so far, from /proc. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export function startHttpFloorServer(dataDir: string): Promise<HttpFloorServer> {
  const child = spawn(process.execPath, [path.join(__dirname, 'http-floor-server.js'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`HTTP floor server exited ${code}`)));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        resolve({
          url: `https://127.0.0.1:${m[1]}/`,
          cpuSeconds: () => processCpuSeconds(child.pid!),
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}
