import type { AdapterDevice } from '@joinery/core';

/**
 * INFERENCE, isolated here: OrbiWAN's REST document publishes `GET /rest/nodes` and
 * `GET /rest/nodes/{deveui}` but not the bodies of node creation and deletion. Joinery assumes
 * the CRUD pattern of the rest of that API:
 *   - create: `POST /rest/nodes` with `deveui`, `appeui` (the JoinEUI, LoRaWAN 1.0 naming),
 *     `comment` (the name), `lora_device_class`, `service_profile_uuid` when one is configured,
 *     and no key: an existing node answers 409;
 *   - delete: `DELETE /rest/nodes/{deveui}`, 404 when there is none.
 * If Orbiwise documents otherwise, only this file changes.
 */
export function createNodeRequest(device: AdapterDevice, serviceProfileId: string | null): { readonly method: 'POST'; readonly url: string; readonly data: Record<string, unknown>; readonly exists: number } {
  return {
    method: 'POST',
    url: '/nodes',
    data: {
      deveui: device.devEUI.toLowerCase(),
      appeui: device.joinEUI.toLowerCase(),
      comment: device.name ?? device.devEUI,
      lora_device_class: 0,
      ...(serviceProfileId !== null ? { service_profile_uuid: serviceProfileId } : {}),
    },
    exists: 409,
  };
}

export function deleteNodeRequest(devEUI: string): { readonly method: 'DELETE'; readonly url: string; readonly missing: number } {
  return { method: 'DELETE', url: `/nodes/${devEUI.toLowerCase()}`, missing: 404 };
}
