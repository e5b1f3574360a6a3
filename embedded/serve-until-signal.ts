/** Running a long-lived service in the foreground until SIGTERM or SIGINT, then stopping it. */

/** How long `stop()` may take before the process exits anyway. */
export const STOP_DEADLINE_MS = 25_000;

/**
 * Waits for SIGTERM or SIGINT, calls `stop()` (bounded by STOP_DEADLINE_MS) and resolves with the
 * exit code: 0 after a clean stop, 1 when stop failed or ran out of time. A second signal while
 * stopping exits at once with 1.
 */
export function serveUntilSignal(stop: () => Promise<void>, log: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        log(`${sig} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      log(`${sig}: stopping`);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<number>((r) => { timer = setTimeout(() => r(1), STOP_DEADLINE_MS); });
      void Promise.race([stop().then(() => 0, (err: unknown) => {
        log(`stop failed: ${(err as Error).message}`);
        return 1;
      }), late]).then((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
