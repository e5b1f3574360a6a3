/** Waiting on conditions with a deadline (never a fixed sleep), for tests. */

/** Polls `fn` until it returns a value other than undefined; throws naming `what` after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `fn` until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  return until(what, async () => (await fn()) || undefined, timeoutMs, everyMs) as Promise<T>;
}
