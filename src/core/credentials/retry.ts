/** Bounded retries with full-jitter exponential backoff; sleep and randomness are injected so tests run instantly. */

/** How to retry: attempts in total (first try included), backoff bounds, and the injected clock. */
export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  isRetryable: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Thrown when every attempt failed with a retryable error; `cause` is the last one. */
export class RetriesExhaustedError extends Error {
  readonly attempts: number;

  constructor(attempts: number, cause: unknown) {
    super(`gave up after ${attempts} attempts`, { cause });
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
  }
}

/** Full-jitter delay before retry `attempt` (1-based): random in [0, min(maxMs, baseMs·2^(attempt-1))]. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Runs `fn` until it succeeds, a non-retryable error occurs (rethrown as is), or attempts run out. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!options.isRetryable(e)) throw e;
      if (attempt >= options.attempts) throw new RetriesExhaustedError(attempt, e);
      const delay = backoffDelay(attempt, options.baseMs, options.maxMs, options.random);
      options.onRetry?.(e, attempt, delay);
      await options.sleep(delay);
    }
  }
}
