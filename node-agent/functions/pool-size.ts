/**
 * The warm pool's size setting (`MK_FUNCTION_POOL_SIZE`, `--function-pool-size`): its default,
 * bounds and parser. Imports nothing, so the CLI checks the flag without loading the node agent.
 */
/** The pool's default base size per runtime. */
export const DEFAULT_POOL_SIZE = 2;
/** The largest base size accepted. */
export const MAX_POOL_SIZE = 16;
/** How long a cold start counts towards growing the pool. */
export const RECENT_COLD_START_MS = 5 * 60_000;
/** The environment variable of the base size. */
export const POOL_SIZE_ENV = 'MK_FUNCTION_POOL_SIZE';

/**
 * Reads a base pool size: an integer from 0 (no pool) to MAX_POOL_SIZE; undefined or empty gives
 * the default. Throws an Error that names `source` and the accepted range otherwise.
 */
export function parsePoolSize(raw: string | number | undefined, source = POOL_SIZE_ENV): number {
  if (raw === undefined || raw === '') return DEFAULT_POOL_SIZE;
  const n = typeof raw === 'number' ? raw : /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_POOL_SIZE) {
    throw new Error(`${source} must be an integer from 0 (no warm pool) to ${MAX_POOL_SIZE}, not "${String(raw)}"`);
  }
  return n;
}

