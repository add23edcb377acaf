import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { FLOOR_ANSWER } from './floor-request';

/**
 * The HTTP floor: a bare node:https server with the Join Server's own TLS setup (its server
 * certificate, client certificates required and verified against the same CA, TLS 1.2 and up),
 * that parses each JSON POST and answers a 300-byte JSON body. Nothing a Join Server does
 * beyond that: what is left of the join's throughput is the cost of the join itself.
 *
 * `node http-floor-server.js <data-dir>`: prints `listening <port>` once bound.
 */
function main(dataDir: string): void {
  const server = https.createServer(
    {
      cert: readFileSync(path.join(dataDir, 'server.crt')),
      key: readFileSync(path.join(dataDir, 'server.key')),
      ca: readFileSync(path.join(dataDir, 'ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let status = 200;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          if (typeof body !== 'object' || body === null) status = 400;
        } catch {
          status = 400;
        }
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(FLOOR_ANSWER) });
        res.end(FLOOR_ANSWER);
      });
    },
  );
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (require.main === module) main(process.argv[2]!);
