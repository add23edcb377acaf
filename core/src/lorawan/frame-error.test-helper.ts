import { FrameError, type FrameErrorCode } from './frame-error';

/** Runs `fn` and returns the FrameError it throws, failing unless it throws one with `code`. */
export function frameErrorOf(fn: () => unknown, code: FrameErrorCode): FrameError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (!(thrown instanceof FrameError)) throw new Error(`expected a FrameError ${code}, got ${String(thrown)}`);
  if (thrown.code !== code) throw new Error(`expected FrameError code ${code}, got ${thrown.code}: ${thrown.message}`);
  return thrown;
}
