import type { DeviceFilter } from './store';

/**
 * Where a device stands, as `joinery_devices` counts them: in stock (pre-provisioned, nobody has
 * claimed it), claimed but bound to no network server, or bound (it may join).
 */
export const DEVICE_STATES = ['unclaimed', 'claimed', 'bound'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/** The devices in a state, as a store filter. */
export function deviceStateFilter(state: DeviceState): DeviceFilter {
  switch (state) {
    case 'unclaimed':
      return { claimed: false };
    case 'claimed':
      return { claimed: true, bound: false };
    case 'bound':
      return { claimed: true, bound: true };
  }
}
