/**
 * A session key on its way to a peer: `kekLabel` empty = the key in clear; otherwise the RFC
 * 3394 wrap of the key under the KEK the peer knows by that label. (The BI wire form is
 * `{"KEKLabel", "AESKey"}`.)
 */
export interface KeyEnvelope {
  readonly kekLabel: string;
  readonly aesKey: Buffer;
}
