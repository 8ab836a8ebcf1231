/**
 * Waiting in tests without guessing how long a thing takes: `until` polls a condition and fails
 * with what it was waiting for once a bounded deadline passes; `settle` is a plain pause, for the
 * few places that check something did not happen.
 */

/** Options of `until`. */
export interface UntilOptions {
  /** How long to wait before the test fails. Default 5000 ms. */
  timeoutMs?: number;
  /** How often to ask. Default 10 ms. */
  everyMs?: number;
  /** What is awaited, for the failure message. Default the condition's source text. */
  what?: string;
}

type Falsy = false | 0 | '' | null | undefined;

/** Resolves after `ms` milliseconds. */
export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Asks `condition` (sync or async) every `everyMs` until it returns something truthy, and returns
 * that. Past `timeoutMs` it throws `timed out after <timeoutMs> ms waiting for <what>`; the last
 * question is asked after the deadline, so a slow machine is not failed by the timer alone. An
 * error thrown by the condition fails the wait at once.
 */
export async function until<T>(condition: () => T | Promise<T>, options: UntilOptions = {}): Promise<Exclude<T, Falsy>> {
  const { timeoutMs = 5000, everyMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Exclude<T, Falsy>;
    if (Date.now() > deadline) {
      const what = options.what ?? String(condition).replace(/\s+/g, ' ');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await settle(everyMs);
  }
}
