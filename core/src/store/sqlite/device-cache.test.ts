import { parseEUI64 } from '../../lorawan/identifiers';
import { OPERATOR_TENANT } from '../../tenants/tenant';
import type { Device } from '../device';
import { DeviceCache } from './device-cache';

const devEUI = parseEUI64('0004a30b001c0530');
const device = (version: number, nsPeer: string | null = 'ns'): Device => ({
  devEUI,
  joinEUI: parseEUI64('70b3d57ed0000000'),
  macVersion: '1.0.3',
  sealedRootKeys: Buffer.alloc(8),
  vaultKind: 'software',
  nsPeer,
  overlapNsPeer: null,
  asPeer: null,
  nonces: { lastDevNonce: null, usedDevNonces: [], lastJoinNonce: null, lastRJCount1: null },
  version,
  lastJoinAt: null,
  lastJoinPeer: null,
  createdAt: new Date(0),
  ownership: { manufacturer: OPERATOR_TENANT, owner: OPERATOR_TENANT, ownerTokenHash: null, profileID: '00000000', locked: false, claimedAt: null, activatedAt: null, activatedTenant: null },
});

describe('DeviceCache', () => {
  let counter = 0;
  const cache = (capacity?: number): DeviceCache => new DeviceCache(async () => counter, capacity);
  beforeEach(() => {
    counter = 0;
  });

  test('a device read once is served from memory; a commit puts the row it wrote', async () => {
    const c = cache();
    const read = jest.fn(async () => device(0));
    expect((await c.get(devEUI, read))?.version).toBe(0);
    expect((await c.get(devEUI, read))?.version).toBe(0);
    expect(read).toHaveBeenCalledTimes(1);
    c.committed(devEUI, (kept) => ({ ...kept, version: 1 }));
    expect((await c.get(devEUI, read))?.version).toBe(1);
    expect(read).toHaveBeenCalledTimes(1);
    // A device not kept stays so.
    const other = parseEUI64('0004a30b001c0531');
    c.committed(other, (kept) => ({ ...kept, devEUI: other }));
    const readOther = jest.fn(async () => ({ ...device(7), devEUI: other }));
    expect((await c.get(other, readOther))?.version).toBe(7);
    expect(readOther).toHaveBeenCalledTimes(1);
  });

  test('a change counted by the database (another process changed a device) empties it', async () => {
    const c = cache();
    await c.get(devEUI, async () => device(0));
    counter = 1;
    expect((await c.get(devEUI, async () => device(5, 'elsewhere')))?.nsPeer).toBe('elsewhere');
  });

  test('a commit that did not apply drops the device: the engine reads it again', async () => {
    const c = cache();
    await c.get(devEUI, async () => device(0));
    c.forget(devEUI);
    const read = jest.fn(async () => device(3));
    expect((await c.get(devEUI, read))?.version).toBe(3);
    expect(read).toHaveBeenCalledTimes(1);
  });

  test('the newest version wins, whichever arrives last', async () => {
    const c = cache();
    await c.get(devEUI, async () => device(0));
    c.committed(devEUI, () => device(4));
    c.committed(devEUI, () => device(2)); // an older answer arriving late
    expect((await c.get(devEUI, async () => null))?.version).toBe(4);
  });

  test('clear drops everything, and a read in flight during it is not kept; unknown devices are never kept', async () => {
    const c = cache();
    let release!: (d: Device) => void;
    const slow = c.get(devEUI, () => new Promise<Device>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 1));
    c.clear();
    release(device(0));
    expect((await slow)?.version).toBe(0);
    const read = jest.fn(async () => null);
    expect(await c.get(devEUI, read)).toBeNull();
    expect(await c.get(devEUI, read)).toBeNull();
    expect(read).toHaveBeenCalledTimes(2);
  });

  test('it holds at most its capacity', async () => {
    const c = cache(4);
    for (let i = 0; i < 10; i++) {
      const eui = parseEUI64(`00000000000000${i.toString(16).padStart(2, '0')}`);
      await c.get(eui, async () => ({ ...device(0), devEUI: eui }));
    }
    const read = jest.fn(async () => device(0));
    await c.get(parseEUI64('0000000000000000'), read);
    expect(read).toHaveBeenCalledTimes(1); // the first was dropped for room
  });
});
