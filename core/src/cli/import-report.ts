import type { SkippedDevice } from '../devices/import-devices';
import { note } from './output';

export interface SkippedDevices {
  readonly count: number;
  readonly first: readonly SkippedDevice[];
}

/** `devices import --skip-existing`: how many devices of the file were there already, and which (the first of them). */
export function reportSkipped(skipped: SkippedDevices, format: 'csv' | 'json'): void {
  if (skipped.count === 0) return;
  const unit = format === 'csv' ? 'line' : 'entry';
  note(`joinery: skipped ${skipped.count} device${skipped.count === 1 ? '' : 's'} that already exist${skipped.count === 1 ? 's' : ''} (left as they are):`);
  for (const s of skipped.first) note(`  ${unit} ${s.line}: ${s.devEUI}`);
  if (skipped.count > skipped.first.length) note(`  ... and ${skipped.count - skipped.first.length} more`);
}
