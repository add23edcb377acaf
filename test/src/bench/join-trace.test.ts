import { buildTrace } from '../../../bench/src/join-trace';
import type { LoadPlan } from '../../../bench/src/load-plan';

/**
 * The open loop's trace (bench/src/join-trace.ts): its first `concurrency` requests open the
 * run's connections before the schedule (load-generator.ts), so it holds them on top of the
 * schedule's requests, all built before the run; round robin over the devices, each device's
 * DevNonces rising with its visits.
 */
const plan = (concurrency: number, perSecond: number, registrySize: number): LoadPlan => ({
  urls: ['https://127.0.0.1:1/'],
  tls: { ca: '', cert: '', key: '' },
  concurrency,
  traffic: { kind: 'joins', seed: 'trace-test', registrySize, macVersion: '1.0.3', nonceBase: 7 },
  schedule: { kind: 'rate', perSecond, seconds: 1, warmupSeconds: 0.5 },
});

const devNonceOf = (body: Buffer): { devEUI: string; devNonce: number } => {
  const json = JSON.parse(body.toString('utf8')) as { DevEUI: string; PHYPayload: string };
  // PHYPayload: MHDR, JoinEUI (8), DevEUI (8), DevNonce (2, little-endian), MIC.
  const phy = Buffer.from(json.PHYPayload, 'hex');
  return { devEUI: json.DevEUI, devNonce: phy.readUInt16LE(17) };
};

test("an open loop's trace holds one request per connection before the schedule's, every one built before the run", () => {
  const trace = buildTrace(plan(8, 40, 20)); // a registry of 20: 10 devices of 1.0.3
  expect(trace.size).toBe(8 + 40 * 1.5);
  for (let i = 0; i < trace.size; i++) trace.open(i);
  expect(trace.builtDuringRun).toBe(0);
  trace.open(trace.size);
  expect(trace.builtDuringRun).toBe(1);
});

test("round robin over the devices, each device's DevNonce rising from the registry's base with its visits", () => {
  const trace = buildTrace(plan(4, 20, 8)); // a registry of 8: 4 devices of 1.0.3
  const sent = Array.from({ length: trace.size }, (_, i) => devNonceOf(trace.open(i)));
  const devices = [...new Set(sent.map((s) => s.devEUI))];
  expect(devices).toHaveLength(4);
  // The connections' requests are the first round: four devices at once, none twice.
  expect(new Set(sent.slice(0, 4).map((s) => s.devEUI)).size).toBe(4);
  for (const d of devices) {
    const nonces = sent.filter((s) => s.devEUI === d).map((s) => s.devNonce);
    expect(nonces).toEqual(nonces.map((_, k) => 7 + k));
  }
  expect(trace.visitsPerDevice).toBe(Math.ceil(trace.size / 4));
});
