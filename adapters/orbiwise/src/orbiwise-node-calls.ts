import { parseEUI64, type AdapterDevice, type EUI64, type RemoteDevice } from '@joinery/core';

/*
 * OrbiWAN 6.x's node calls as its REST API document (rest-api.md of the OrbiWAN resources)
 * publishes them. Verified from that document:
 *   - `POST /rest/nodes` requires `DevEUI` (this spelling), `device_profile_uuid` and
 *     `service_profile_uuid`; `appkey` may be left out when the key is in an external Join
 *     Server (LoRaWAN 1.0.x); `appeui` "should almost never be provided"; `joineui` directs
 *     the join to a registered Join Server. 409 = already registered; a 404 to a POST means
 *     missing or invalid parameters.
 *   - `GET /rest/nodes/{DevEUI}` answers the node with `DevEUI`; `DELETE` answers 200 or 404.
 *   - `GET /rest/nodes?paged_results=true&limit=&page_state=` → `{results, next_page_state}`;
 *     an expired page state is 410.
 *   - Its key table requires a NwkKey in every LoRaWAN 1.1 row: a 1.1 node without keys
 *     cannot be created.
 * Inferred, and only here:
 *   - the document says a re-registration right after a delete "may fail for a few seconds",
 *     not how: a create failing in the window after this adapter deleted the node, or a 409
 *     while `GET` finds no node, is taken as that and tried again for REREGISTER_WINDOW_MS;
 *   - a 410 restarts the listing from its first page, at most LIST_RESTARTS times a listing.
 */

/** How long a re-registration after a delete is tried again (inference: "a few seconds"). */
export const REREGISTER_WINDOW_MS = 5_000;
/** Pause between two such tries. */
export const REREGISTER_PAUSE_MS = 200;
/** Times one listing starts again after an expired page state (410). */
export const LIST_RESTARTS = 3;

/** Why a LoRaWAN 1.1 device cannot go to OrbiWAN through Joinery (it holds no keys). */
export const LORAWAN_11_REFUSAL =
  'OrbiWAN cannot take a LoRaWAN 1.1 device without its keys (its key table requires a NwkKey for every 1.1 node), and Joinery never hands root keys over: keep 1.1 devices on another network server';

export function createNodeBody(device: AdapterDevice, profiles: { readonly deviceProfileId: string; readonly serviceProfileId: string }): Record<string, string> {
  return {
    DevEUI: device.devEUI.toUpperCase(),
    device_profile_uuid: profiles.deviceProfileId,
    service_profile_uuid: profiles.serviceProfileId,
    joineui: device.joinEUI.toUpperCase(),
    comment: device.name ?? device.devEUI,
  };
}

export function nodePath(devEUI: EUI64): string {
  return `/nodes/${devEUI.toUpperCase()}`;
}

/** A node as OrbiWAN answers it: `DevEUI` (also read: the lower-case `deveui` of older releases). */
export function remoteNode(n: unknown): RemoteDevice | null {
  const node = (n ?? {}) as { DevEUI?: unknown; deveui?: unknown; joineui?: unknown; appeui?: unknown; comment?: unknown };
  const eui = typeof node.DevEUI === 'string' ? node.DevEUI : typeof node.deveui === 'string' ? node.deveui : null;
  if (eui === null) return null;
  try {
    const devEUI = parseEUI64(eui);
    const join = typeof node.joineui === 'string' ? node.joineui : typeof node.appeui === 'string' ? node.appeui : null;
    return { devEUI, joinEUI: join === null ? null : parseEUI64(join), name: typeof node.comment === 'string' && node.comment !== '' ? node.comment : devEUI, remoteID: devEUI };
  } catch {
    return null;
  }
}

/** Our page token: how many times the listing started again, and OrbiWAN's page state. */
export function pageToken(restarts: number, pageState: string): string {
  return `${restarts}.${pageState}`;
}

export function parsePageToken(token: string): { restarts: number; pageState: string } {
  const m = /^(\d+)\.(.+)$/s.exec(token);
  if (!m) throw new RangeError(`orbiwise listDevices: bad page token "${token.slice(0, 40)}"`);
  return { restarts: Number(m[1]), pageState: m[2]! };
}

/** RFC 7807 problem (`detail`, else `title`), or OrbiWAN's text/plain error. */
export function orbiwiseError(data: unknown): string | undefined {
  if (typeof data === 'string') return data.trim() === '' ? undefined : data.trim().slice(0, 500);
  const p = data as { title?: unknown; detail?: unknown; message?: unknown } | null | undefined;
  const text = [p?.title, p?.detail].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
  if (text !== '') return text.slice(0, 500);
  return typeof p?.message === 'string' ? p.message.slice(0, 500) : undefined;
}
