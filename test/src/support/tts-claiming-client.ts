import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type { DCSEdcs, DCSJoinServer } from '../adapters/vendor-rules/tts-dcs-config-rules';

/**
 * The Things Stack's Device Claiming Server client for a TTJS v2 Join Server, played request
 * by request as its source builds them and reads the answers (TTS
 * pkg/deviceclaimingserver/enddevices/ttjsv2/ttjs.go and messages.go):
 * - every request goes to `<url>/api/v2/devices/<DevEUI>/claim` (or `<EUI>,<EUI>.../claims`),
 *   EUIs in upper-case hex (TTS pkg/types/eui.go String), over TLS 1.2+ with the configured
 *   root CA and client certificate (tls.go);
 * - a claim is a PUT of `{"ownerToken","homeNetID","homeNSID"?,"asID","lock":true}` in that
 *   order (Go marshals the ClaimRequest struct's fields in order, `omitempty` ones left out),
 *   Content-Type application/json; an unclaim, a status and a batch unclaim have no body;
 * - any 2xx is success; otherwise the status becomes the error its user sees (errorOf).
 */
export type TTSClaimError =
  | { readonly name: 'device_not_provisioned' }
  | { readonly name: 'device_not_claimed' }
  | { readonly name: 'device_access_denied' }
  | { readonly name: 'credentials' }
  | { readonly name: 'internal_error'; readonly message: string }
  /** errors.FromHTTPStatusCode: the bare status text ("Conflict", "Too Many Requests"...). */
  | { readonly name: 'http_status'; readonly status: number }
  /** A batch's per-device errors (claimerrors.DeviceErrors): by upper-case DevEUI. */
  | { readonly name: 'unclaim_devices'; readonly errors: Readonly<Record<string, string>> };

export type TTSResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: TTSClaimError };

export interface TTSClaimStatus {
  /** 6 upper-case hex digits: what TTS keeps (an absent homeNetID reads as 000000). */
  readonly homeNetID: string;
  readonly homeNSID: string | null;
}

/** One request as it went on the wire (for the test to check). */
export interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}

export class TTSClaimingClient {
  readonly sent: WireRequest[] = [];

  private constructor(
    private readonly edcs: DCSEdcs,
    private readonly js: DCSJoinServer,
    private readonly tls: { readonly ca?: string; readonly cert: string; readonly key: string } | null,
  ) {}

  /** A claimer from the Device Claiming Server's configuration, its TLS files read from its directory. */
  static async load(edcs: DCSEdcs, js: DCSJoinServer): Promise<TTSClaimingClient> {
    const read = (rel: string): Promise<string> => fs.readFile(path.join(edcs.directory, rel), 'utf8');
    const tls = js.tls ? { ...(js.tls.rootCA ? { ca: await read(js.tls.rootCA) } : {}), cert: await read(js.tls.certificate), key: await read(js.tls.key) } : null;
    return new TTSClaimingClient(edcs, js, tls);
  }

  /** The same claimer without a client certificate (a TTS whose tls names none). */
  withoutCertificate(): TTSClaimingClient {
    return new TTSClaimingClient(this.edcs, this.js, this.tls ? { ...this.tls, cert: '', key: '' } : null);
  }

  /** SupportsJoinEUI: a JoinEUI in one of the entry's prefixes. */
  supportsJoinEUI(joinEUI: string): boolean {
    const eui = BigInt(`0x${joinEUI}`);
    return this.js.joinEUIs.some((p) => {
      const [hex, bits] = p.split('/');
      const n = BigInt(Number(bits));
      const mask = n === 0n ? 0n : ((1n << n) - 1n) << (64n - n);
      return (eui & mask) === (BigInt(`0x${hex}`) & mask);
    });
  }

  async claim(devEUI: string, ownerToken: string): Promise<TTSResult<null>> {
    const request: Record<string, unknown> = { ownerToken, homeNetID: this.edcs.netID, ...(this.edcs.nsID !== null ? { homeNSID: this.edcs.nsID } : {}), asID: this.edcs.asID, lock: true };
    const r = await this.#send('PUT', `/api/v2/devices/${devEUI.toUpperCase()}/claim`, JSON.stringify(request));
    if (r.status >= 200 && r.status <= 299) return { ok: true, value: null };
    const message = messageOf(r.text);
    switch (r.status) {
      case 400:
        return failed({ name: 'internal_error', message });
      case 404:
        return failed({ name: 'device_not_provisioned' });
      case 403:
        return failed(message === 'claim failed with given owner token' ? { name: 'device_access_denied' } : { name: 'internal_error', message });
      case 401:
        return failed({ name: 'credentials' });
      default:
        return failed({ name: 'http_status', status: r.status });
    }
  }

  async unclaim(devEUI: string): Promise<TTSResult<null>> {
    const r = await this.#send('DELETE', `/api/v2/devices/${devEUI.toUpperCase()}/claim`, null);
    if (r.status >= 200 && r.status <= 299) return { ok: true, value: null };
    return failed(singleDeviceError(r.status, messageOf(r.text)));
  }

  async claimStatus(devEUI: string): Promise<TTSResult<TTSClaimStatus>> {
    const r = await this.#send('GET', `/api/v2/devices/${devEUI.toUpperCase()}/claim`, null);
    if (r.status >= 200 && r.status <= 299) {
      const data = JSON.parse(r.text) as { homeNetID?: string; homeNSID?: string };
      // types.NetID.UnmarshalText: empty text is the zero NetID.
      const homeNetID = (data.homeNetID ?? '') === '' ? '000000' : parseHexText(data.homeNetID!, 3);
      return { ok: true, value: { homeNetID, homeNSID: data.homeNSID !== undefined ? parseHexText(data.homeNSID, 8) : null } };
    }
    return failed(singleDeviceError(r.status, messageOf(r.text)));
  }

  async batchUnclaim(devEUIs: readonly string[]): Promise<TTSResult<null>> {
    const r = await this.#send('DELETE', `/api/v2/devices/${devEUIs.map((d) => d.toUpperCase()).join(',')}/claims`, null);
    if (r.status >= 200 && r.status <= 299) return { ok: true, value: null };
    switch (r.status) {
      case 400: {
        const parsed = JSON.parse(r.text) as Record<string, unknown>;
        if (typeof parsed['message'] === 'string' && parsed['message'] !== '') return failed({ name: 'internal_error', message: parsed['message'] });
        const errors: Record<string, string> = {};
        for (const [eui, v] of Object.entries(parsed)) {
          // An EUI that does not unmarshal is logged and skipped.
          if (!/^[0-9a-fA-F]{16}$/.test(eui)) continue;
          errors[eui.toUpperCase()] = (v as { message?: string }).message ?? '';
        }
        return failed({ name: 'unclaim_devices', errors });
      }
      case 401:
        return failed({ name: 'credentials' });
      default:
        return failed({ name: 'http_status', status: r.status });
    }
  }

  #send(method: string, pathname: string, body: string | null): Promise<{ status: number; text: string }> {
    const url = `${this.js.url}${pathname}`;
    const headers: Record<string, string> = body !== null ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {};
    this.sent.push({ method, path: new URL(url).pathname, headers, body });
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          headers,
          minVersion: 'TLSv1.2',
          ...(this.tls?.ca ? { ca: this.tls.ca } : {}),
          ...(this.tls && this.tls.cert !== '' ? { cert: this.tls.cert, key: this.tls.key } : {}),
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(body ?? undefined);
    });
  }
}

function failed<T>(error: TTSClaimError): TTSResult<T> {
  return { ok: false, error };
}

/** Unclaim and GetClaimStatus read a status alike. */
function singleDeviceError(status: number, message: string): TTSClaimError {
  switch (status) {
    case 400:
      return { name: 'internal_error', message };
    case 404:
      return { name: 'device_not_claimed' };
    case 403:
      return { name: 'device_access_denied' };
    case 401:
      return { name: 'credentials' };
    default:
      return { name: 'http_status', status };
  }
}

/** ErrorResponse.Message, or empty when the body does not decode (TTS logs that and carries on). */
function messageOf(text: string): string {
  try {
    const v = JSON.parse(text) as { message?: unknown };
    return typeof v.message === 'string' ? v.message : '';
  } catch {
    return '';
  }
}

/** TTS's hex text unmarshalling: exactly `bytes` bytes, else an error (thrown: the test fails). */
function parseHexText(text: string, bytes: number): string {
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(text)) throw new Error(`TTS refuses ${JSON.stringify(text)}: not ${bytes} bytes of hex`);
  return text.toUpperCase();
}
