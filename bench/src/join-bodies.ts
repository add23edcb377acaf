import { devNonce, encodeJoinRequest, toHex } from '@joinery/core';
import { BENCH_JOIN_EUI, BENCH_NET_ID, benchDevice, deviceIndex, type BenchDevice, type BenchMACVersion } from './bench-devices';

/** Devices whose key (and so its AES contexts) the load generator keeps between their joins. */
const KEPT_DEVICES = 50_000;

/**
 * JoinReq bodies of the registry's devices, made as cheaply as the HTTP floor's fixed body is
 * sent, so the load generator's own CPU (on the same two cores as the server) is spent on HTTP,
 * not on deriving keys: a device is derived once (SHA-256 of seed and index, then an AES key
 * whose ECB contexts and CMAC subkeys the key caches) and kept for its next join; only the
 * DevNonce and the MIC change per request. At most `KEPT_DEVICES` are kept (a storm joins each
 * device once: nothing to keep).
 */
export class JoinBodies {
  readonly #seed: string;
  readonly #macVersion: BenchMACVersion | null;
  #devices = new Map<number, BenchDevice>();

  constructor(seed: string, macVersion: BenchMACVersion | null) {
    this.#seed = seed;
    this.#macVersion = macVersion;
  }

  /** The JoinReq of the `j`th device (of the plan's MAC version) with DevNonce `nonce`. */
  body(j: number, nonce: number, transactionID: number): string {
    const d = this.#device(j);
    if (nonce > 0xffff) throw new Error(`device ${d.devEUI}: DevNonce space used up (run fewer or shorter join runs on one registry)`);
    const phy = encodeJoinRequest({ joinEUI: BENCH_JOIN_EUI, devEUI: d.devEUI, devNonce: devNonce(nonce) }, d.micKey);
    return (
      `{"ProtocolVersion":"1.0","SenderID":"${BENCH_NET_ID}","ReceiverID":"${BENCH_JOIN_EUI}","TransactionID":${transactionID},` +
      `"MessageType":"JoinReq","MACVersion":"${d.macVersion}","PHYPayload":"${toHex(phy)}","DevEUI":"${d.devEUI}",` +
      `"DevAddr":"26011234","DLSettings":"${d.macVersion === '1.1' ? '80' : '00'}","RxDelay":1}`
    );
  }

  #device(j: number): BenchDevice {
    let d = this.#devices.get(j);
    if (d === undefined) {
      if (this.#devices.size >= KEPT_DEVICES) this.#devices = new Map();
      d = benchDevice(this.#seed, deviceIndex(j, this.#macVersion));
      this.#devices.set(j, d);
    }
    return d;
  }
}
