import type { KeyVault } from '../keys/key-vault';
import type { EUI64 } from '../lorawan/identifiers';
import type { Peer } from '../peers/peer';
import type { JoinState } from '../store/ports/join-state';
import { failure, type Failure } from './failure';
import { appSKeyContext, kekContext } from './vault-contexts';
import type { KeyEnvelope } from './key-envelope';

export interface AppSKeyRequestInput {
  readonly devEUI: EUI64;
  /** 16 bytes, lower-case hex (parsed at the edge). */
  readonly sessionKeyID: string;
  /** The request's SenderID: the AS-ID of the asking application server. */
  readonly senderID: string;
}

export interface AppSKeyAnswer {
  readonly ok: true;
  readonly appSKey: KeyEnvelope;
}

/**
 * AppSKeyReq: an application server fetches the AppSKey of a session by its SessionKeyID.
 * Only the peer the session's AppSKey was issued for gets it, wrapped under that peer's KEK:
 * - the device's application server (identified by its certificate, SenderID = its AS-ID);
 * - for a device without one, the network server the join went through (it already received
 *   that AppSKey wrapped under its KEK; The Things Stack's AS asks with the NS's certificate).
 */
export class AppSKeyService {
  constructor(
    private readonly store: Pick<JoinState, 'getSession'>,
    private readonly vault: KeyVault,
  ) {}

  async appSKey(input: AppSKeyRequestInput, peer: Peer): Promise<AppSKeyAnswer | Failure> {
    if (peer.kind === 'as' && input.senderID !== peer.asID) {
      return failure('UnknownSender', `SenderID ${input.senderID} is not the AS-ID of application server ${peer.name}`);
    }
    const session = await this.store.getSession(input.devEUI, input.sessionKeyID);
    if (!session) return failure('UnknownSession', `no session ${input.sessionKeyID} for device ${input.devEUI}`);
    const entitled = peer.kind === 'as' ? session.asPeer === peer.name : session.asPeer === null && session.nsPeer === peer.name;
    if (!entitled) {
      return failure('SessionNotYours', `session ${input.sessionKeyID} of device ${input.devEUI} was not issued for ${peer.name}`);
    }
    const appSKey = await this.vault.openKey(session.sealedAppSKey, appSKeyContext(session.devEUI, session.sessionKeyID));
    const kek = await this.vault.openKey(peer.sealedKEK, kekContext(peer.name));
    try {
      return { ok: true, appSKey: { kekLabel: peer.kekLabel, aesKey: await this.vault.wrapKey(appSKey, kek) } };
    } finally {
      this.vault.release(appSKey, kek);
    }
  }
}
