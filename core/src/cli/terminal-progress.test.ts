import { Writable } from 'node:stream';
import { terminalProgress } from './terminal-progress';
import { etaText } from '../fleet-migration/migration-progress';

/** A terminal 200 columns wide that keeps what is drawn on it, with the control sequences taken out. */
function fakeTerminal(isTTY = true): { stream: NodeJS.WriteStream; frames: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY, columns: 200 });
  const frames = (): string[] => text.split(/\x1b\[[0-9;?]*[A-Za-z]|[\r\n]/).filter((f) => f.startsWith('importing'));
  return { stream, frames };
}

afterEach(() => jest.useRealTimers());

test('the bar is on the terminal as soon as it is made: at 0, with no rate and no ETA yet', () => {
  const { stream, frames } = fakeTerminal();
  const progress = terminalProgress('importing', 3000, 'devices', stream);
  // Nothing has run on the event loop yet: cli-progress's own timer has not fired.
  expect(frames()).toEqual(['importing [..............................] 0/3000 devices | - devices/s | ETA ?']);
  progress.stop();
});

test('the rate and the ETA come from the pace since the start, and the last frame says the work is done', () => {
  // Only the clock and the timers are faked: the stream's callbacks still run.
  jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate'] });
  const { stream, frames } = fakeTerminal();
  const progress = terminalProgress('importing', 3000, 'devices', stream);
  jest.setSystemTime(1_000_000 + 500);
  progress.update(1000);
  // 1,000 devices in 0.5 s: 2,000 a second, and 2,000 left take 1 s.
  expect(frames().at(-1)).toBe('importing [##########....................] 1000/3000 devices | 2000 devices/s | ETA 1s');
  jest.setSystemTime(1_000_000 + 1500);
  progress.update(3000);
  progress.stop();
  expect(frames().at(-1)).toBe('importing [##############################] 3000/3000 devices | 2000 devices/s | ETA 0s');
});

test('off a terminal the bar draws nothing', () => {
  const { stream, frames } = fakeTerminal(false);
  const progress = terminalProgress('importing', 3000, 'devices', stream);
  progress.update(1000);
  progress.stop();
  expect(frames()).toEqual([]);
});

test('an ETA reads in seconds, minutes or hours, and says so when no rate is known', () => {
  expect(etaText(0, null)).toBe('0s');
  expect(etaText(10, null)).toBe('?');
  expect(etaText(10, 0)).toBe('?');
  expect(etaText(90, 2)).toBe('45s');
  expect(etaText(185, 1)).toBe('3m5s');
  expect(etaText(3720, 1)).toBe('1h2m');
});
