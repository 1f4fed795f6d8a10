/**
 * What the process does around a plan or apply, for both front doors: the first SIGINT or SIGTERM
 * cancels the run (running steps get SIGTERM and release their locks; a second signal changes
 * nothing), and files written meanwhile — by us or by Terraform — are owner-only (umask 077).
 */
export interface RunGuard {
  signal: AbortSignal;
  /** Restores the handlers and the umask. */
  dispose(): void;
}

/** Installs the guard; `announce` is told about the first signal only. */
export function guardRun(announce: (signal: NodeJS.Signals) => void): RunGuard {
  const controller = new AbortController();
  const cancel = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) announce(signal);
    controller.abort();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  const umask = process.umask(0o077);
  return {
    signal: controller.signal,
    dispose() {
      process.umask(umask);
      process.off('SIGINT', cancel);
      process.off('SIGTERM', cancel);
    },
  };
}
