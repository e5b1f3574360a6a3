/**
 * The api's Prometheus metrics: requests by verb, kind and result code, and their latency, for
 * the subject API (mk.api.*) and the node api (mk.api.node.<node>.*). `timed` wraps a handler
 * where it is served, so every request is counted once, whatever the handler does.
 */
import { counter, histogram, LATENCY_BUCKETS, secondsSince } from '../../common/metrics';
import { kindOf, MkError, resolveKind } from '../../messages';

/** Requests served, by verb, kind (plural) and code (`OK` or the error code of the reply). */
export const apiRequests = counter({
  name: 'mk_api_requests_total',
  help: 'Requests the api served, by verb, kind (plural, "unknown" when the request names none mk knows) and code (OK or the error code answered).',
  labelNames: ['verb', 'kind', 'code'] as const,
});

/** Time from a request's arrival to its answer, by verb and kind. */
export const apiRequestDuration = histogram({
  name: 'mk_api_request_duration_seconds',
  help: 'Seconds from a request\'s arrival at the api to its answer (queueing in the write lanes included), by verb and kind.',
  labelNames: ['verb', 'kind'] as const,
  buckets: LATENCY_BUCKETS as number[],
});

/**
 * The kind a request names, as its plural: `kind` (get, list, delete, patch, watch) or the
 * object's apiVersion and kind (apply, create, update, update-status). "unknown" when neither
 * names a kind mk has, so a bad request cannot add label values without end.
 */
export function requestKind(req: unknown): string {
  if (typeof req !== 'object' || req === null) return 'unknown';
  const r = req as { kind?: unknown; object?: { apiVersion?: unknown; kind?: unknown } | null };
  if (typeof r.kind === 'string') return resolveKind(r.kind)?.plural ?? 'unknown';
  const o = r.object;
  if (o && typeof o.apiVersion === 'string' && typeof o.kind === 'string') return kindOf(o.apiVersion, o.kind)?.plural ?? 'unknown';
  return 'unknown';
}

/** The code label of an outcome: OK, or the MkError's code (Internal for anything else). */
export function resultCode(err?: unknown): string {
  if (err === undefined) return 'OK';
  return err instanceof MkError ? err.code : 'Internal';
}

/**
 * `handler`, counted and timed as `verb`; the kind comes from `kindOfReq` (default requestKind).
 * What the handler returns or throws passes through unchanged.
 */
export function timed<Req, Res, A extends unknown[]>(
  verb: string, handler: (req: Req, ...rest: A) => Promise<Res>, kindOfReq: (req: Req) => string = requestKind,
): (req: Req, ...rest: A) => Promise<Res> {
  return async (req, ...rest) => {
    const t0 = performance.now();
    const kind = kindOfReq(req);
    try {
      const res = await handler(req, ...rest);
      apiRequests.inc({ verb, kind, code: 'OK' });
      return res;
    } catch (err) {
      apiRequests.inc({ verb, kind, code: resultCode(err) });
      throw err;
    } finally {
      apiRequestDuration.observe({ verb, kind }, secondsSince(t0));
    }
  };
}
