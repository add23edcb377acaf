import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** What a simulated device keeps in its non-volatile memory between joins. */
export interface SimulatedDeviceState {
  readonly lastDevNonce?: number;
  /** The last JoinNonce the device accepted; absent = never joined since power on (zero). */
  readonly lastJoinNonce?: number;
}

export const SIMULATOR_STATE_FILE = 'simulator-state.json';

/** Per-device state, kept in the credential bundle directory the simulator runs with. */
export async function readSimulatorState(file: string): Promise<Record<string, SimulatedDeviceState>> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, SimulatedDeviceState>) : {};
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
}

export async function writeSimulatorState(file: string, state: Record<string, SimulatedDeviceState>): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await fs.writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(tmp, file);
}
