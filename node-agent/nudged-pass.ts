/**
 * A node's share of something the control plane keeps (its local-path volumes, its file
 * triggers), looked at again by one pass at a time: at start, whenever the control plane nudges
 * the node on a subject of its own, and every `everyMs` in case a nudge was lost. A nudge during a
 * pass makes one more pass after it, never two at once.
 */
import type { Bus } from '../bus';

/** A running loop of passes. */
export interface NudgedPass {
  /** Runs a pass now (after the one in progress, if any); resolves when it is done. */
  sync(): Promise<void>;
  /** Stops the loop: no pass starts after this; waits for the one in progress. */
  stop(): Promise<void>;
}

/** Starts the loop: a pass now, on each message on `nudgeSubject` and every `everyMs`. `pass` must not throw. */
export function startNudgedPass(opts: { bus: Bus; nudgeSubject: string; everyMs: number; pass: () => Promise<void> }): NudgedPass {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const sync = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) { again = true; return running; }
    running = (async () => {
      do { again = false; await opts.pass(); } while (again && !stopped);
    })().finally(() => { running = undefined; });
    return running;
  };
  const sub = opts.bus.nc.subscribe(opts.nudgeSubject, { callback: () => { void sync(); } });
  const timer = setInterval(() => { void sync(); }, opts.everyMs);
  timer.unref();
  void sync();
  return {
    sync,
    async stop() {
      stopped = true;
      clearInterval(timer);
      sub.unsubscribe();
      await running;
    },
  };
}
