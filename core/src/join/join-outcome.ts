import type { Device } from '../store/device';
import type { Failure } from './failure';
import type { JoinAnswer } from './join-answer';

/**
 * What the engine made of a join-request or rejoin-request: a join-accept with its keys, or a
 * refusal; and the device it was for, once found under the request's JoinEUI (whatever the
 * outcome: its join event goes to its owner).
 */
export interface JoinOutcome {
  readonly device: Device | null;
  readonly result: JoinAnswer | Failure;
}
