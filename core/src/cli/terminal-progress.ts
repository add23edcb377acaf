import { MultiBar } from 'cli-progress';
import { ProgressMeter, etaText } from '../fleet-migration/migration-progress';
import { say } from './output';

/** Progress of long work, counted in `unit`s out of a known total. */
export interface Progress {
  /** `detail`: a few words more on the bar's line (a migration's status and counts). */
  update(done: number, detail?: string): void;
  /** A line of the command's own output (stdout), kept clear of the bar. */
  log(line: string): void;
  stop(): void;
}

/**
 * A bar with rate and ETA on stderr when stderr is a terminal (cli-progress draws it; the rate and
 * the ETA both come from ProgressMeter's sliding window, the pace of the last seconds), nothing at
 * all otherwise: output piped or in a log stays the command's own lines. Lines logged while the
 * bar shows are written above it when stdout is the same terminal.
 *
 * The bar is drawn the moment it is made, at 0 with no rate and no ETA yet: the first batch of
 * work (keys sealed in an HSM, a network server's first page) can take seconds, and the terminal
 * shows that the work started before it shows how fast it goes.
 */
export function terminalProgress(label: string, total: number, unit: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY !== true || total <= 0) return { update() {}, log: say, stop() {} };
  const meter = new ProgressMeter();
  meter.sample(0);
  const bars = new MultiBar({
    stream,
    format: `${label} [{bar}] {value}/{total} {unit} | {rate} ${unit}/s | ETA {timeLeft}{detail}`,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
  });
  const bar = bars.create(total, 0, { unit, rate: '-', timeLeft: etaText(total, null), detail: '' });
  bars.update();
  const sameTerminal = process.stdout.isTTY === true;
  let stopped = false;
  let drawn = Date.now();
  return {
    update(done, detail) {
      const value = Math.min(done, total);
      const rate = meter.sample(done);
      bar.update(value, { unit, rate: rate === null ? '-' : rate.toFixed(0), timeLeft: etaText(total - value, rate), detail: detail ? ` | ${detail}` : '' });
      // Drawn here too, at most ten times a second: busy work (sealing keys on this thread)
      // leaves cli-progress's own redraw timer little chance to run.
      if (Date.now() - drawn >= 100) {
        drawn = Date.now();
        bars.update();
      }
    },
    log(line) {
      if (sameTerminal) bars.log(`${line}\n`);
      else say(line);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bars.stop();
    },
  };
}
