/**
 * What the Trigger kind's readers share without its schema: the defaults and bounds, the subjects
 * and gateway paths a trigger may not take, and the checks of a NATS subject, an HTTP path, a
 * file path and a filter's JSONPath. Each check returns why its input is refused, or null. No zod
 * here, no I/O.
 */
import { encodeToken } from './names';

/** Tries per firing when spec.maxAttempts is omitted, and the most it may be. */
export const DEFAULT_TRIGGER_MAX_ATTEMPTS = 3;
export const MAX_TRIGGER_ATTEMPTS = 100;
/** The first retry's wait (spec.backoffSeconds) and the cap (spec.maxBackoffSeconds) when omitted; neither may pass a day. */
export const DEFAULT_TRIGGER_BACKOFF_SECONDS = 1;
export const DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS = 60;
export const MAX_TRIGGER_BACKOFF_SECONDS = 86_400;
/** How close together a file's changes fire once (source.file.debounceMs) when omitted, and the most it may be. */
export const DEFAULT_FILE_DEBOUNCE_MS = 100;
export const MAX_FILE_DEBOUNCE_MS = 3_600_000;
/** The changes a file source reports. */
export const FILE_EVENTS = ['create', 'write', 'delete'] as const;
export type FileEvent = (typeof FILE_EVENTS)[number];
/** The methods an HTTP source may serve; POST alone when none are given. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export const DEFAULT_HTTP_METHODS: readonly HttpMethod[] = ['POST'];
/** The longest subject, path or pattern a trigger may name. */
export const MAX_TRIGGER_TEXT = 1024;

/**
 * The first subject tokens of the system's own traffic: mk's API, events and functions (`mk.`),
 * JetStream's API and KV and object buckets (`$JS.`, `$KV.`, `$O.`), the server's system account
 * (`$SYS.`) and reply inboxes (`_INBOX.`). A trigger neither listens under them nor writes to them.
 */
export const RESERVED_SUBJECT_PREFIXES = ['mk', '$JS', '$KV', '$O', '$SYS', '_INBOX'] as const;

/** The gateway's own routes: a trigger's HTTP path may be neither one of them nor under one. */
export const GATEWAY_RESERVED_PATHS = ['/function', '/function-results', '/healthz', '/metrics'] as const;

/** The subject dead letters of trigger `<ns>/<name>` go to when the trigger names none. */
export function triggerDeadLetterSubject(namespace: string, name: string): string {
  return `mk.trigger.dlq.${encodeToken(namespace)}.${encodeToken(name)}`;
}
/** Every trigger's default dead-letter subject. */
export const TRIGGER_DLQ_WILDCARD = 'mk.trigger.dlq.*.*';

/**
 * Why `subject` is not a NATS subject a trigger may use, or null. Tokens are separated by `.`,
 * none empty, with no whitespace; with `wildcards` (a subscription) `*` may stand for one token
 * and `>` for the rest, each as a whole token, `>` only last; without, neither may appear (a
 * subject published to). The first token may not be a wildcard or one of the system's own
 * (RESERVED_SUBJECT_PREFIXES): both would reach the system's traffic.
 * (https://docs.nats.io/nats-concepts/subjects)
 */
export function subjectProblem(subject: string, opts: { wildcards: boolean }): string | null {
  if (subject === '') return 'must not be empty';
  if (subject.length > MAX_TRIGGER_TEXT) return `must be no more than ${MAX_TRIGGER_TEXT} characters (got ${subject.length})`;
  if (/\s/.test(subject)) return 'must not contain whitespace';
  const tokens = subject.split('.');
  for (const [i, token] of tokens.entries()) {
    if (token === '') return "must not have an empty token (no leading, trailing or doubled '.')";
    const wildcard = token === '*' || token === '>';
    if (!wildcard && /[*>]/.test(token)) return `token "${token}": '*' and '>' are wildcards and must be a whole token`;
    if (wildcard && !opts.wildcards) return `token "${token}": a subject published to cannot hold wildcards`;
    if (token === '>' && i !== tokens.length - 1) return "'>' must be the last token";
  }
  if (tokens[0] === '*' || tokens[0] === '>') {
    return `must not start with a wildcard: it would match the system's own subjects (${reservedList()})`;
  }
  if ((RESERVED_SUBJECT_PREFIXES as readonly string[]).includes(tokens[0])) {
    return `"${tokens[0]}." is reserved for the system's own subjects (${reservedList()})`;
  }
  return null;
}

const reservedList = () => RESERVED_SUBJECT_PREFIXES.map((p) => `${p}.`).join(', ');

/** RFC 3986 path characters (pchar and '/'); '%' only as an escape. */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/** The segments of a path with its escapes decoded, or null when an escape is malformed. */
function decodedSegments(path: string): string[] | null {
  try {
    return path.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

/**
 * Why `path` is not a gateway path an HTTP trigger may serve, or null: it starts with '/', holds
 * only URL path characters (no query or fragment), no '.' or '..' segment (escaped or not), no
 * empty segment but a trailing '/', and is neither one of the gateway's own routes nor under one.
 */
export function httpPathProblem(path: string): string | null {
  if (!path.startsWith('/')) return "must be an absolute path starting with '/'";
  if (path.length > MAX_TRIGGER_TEXT) return `must be no more than ${MAX_TRIGGER_TEXT} characters (got ${path.length})`;
  if (!PATH_CHARS.test(path)) return 'must hold only URL path characters (no spaces, query "?" or fragment "#")';
  const segments = decodedSegments(path);
  if (!segments) return "holds a malformed '%' escape";
  const inner = segments.slice(1, path.endsWith('/') ? -1 : undefined);
  if (inner.some((s) => s === '.' || s === '..')) return "must not hold a '.' or '..' segment";
  if (path !== '/' && inner.some((s) => s === '')) return "must not hold an empty segment ('//')";
  if (segments.some((s) => s.includes('/'))) return "must not hold an escaped '/' (%2F)";
  const lower = `/${inner.join('/')}`.toLowerCase();
  for (const reserved of GATEWAY_RESERVED_PATHS) {
    if (lower === reserved || lower.startsWith(`${reserved}/`)) {
      return `"${reserved}" is the gateway's own route (reserved: ${GATEWAY_RESERVED_PATHS.join(', ')}); choose another path`;
    }
  }
  return null;
}

/**
 * Why `path` is not a file a file trigger may watch, or null: an absolute path, no '.' or '..'
 * segment, no empty segment but a trailing '/', no NUL.
 */
export function filePathProblem(path: string): string | null {
  if (!path.startsWith('/')) return "must be an absolute path starting with '/'";
  if (path.length > MAX_TRIGGER_TEXT) return `must be no more than ${MAX_TRIGGER_TEXT} characters (got ${path.length})`;
  if (path.includes('\0')) return 'must not hold a NUL character';
  const inner = path.split('/').slice(1, path.endsWith('/') ? -1 : undefined);
  if (inner.some((s) => s === '.' || s === '..')) return "must not hold a '.' or '..' segment";
  if (path !== '/' && inner.some((s) => s === '')) return "must not hold an empty segment ('//')";
  return null;
}

/**
 * One step of the JSONPath subset a field filter may use: `.name`, `.*`, `..name`, `..*`,
 * `[n]`, `[*]` and `['name']`. Filter and script expressions (`?(...)`, `(...)`) and
 * jsonpath-plus's own extensions (`^`, `~`, `@type()`) are left out, so a path never evaluates
 * code and means the same in any JSONPath implementation.
 */
const FIELD_STEP = /^(?:\.\.?(?:[A-Za-z0-9_-]+|\*)|\[(?:\*|\d+|'[^'()[\]`\\^~@$]*')\])/;

/** Why `path` is not a field filter's JSONPath (`$.a.b[0]`), or null. */
export function fieldPathProblem(path: string): string | null {
  if (!path.startsWith('$')) return "must be a JSONPath starting with '$' (such as $.order.id)";
  if (path.length > MAX_TRIGGER_TEXT) return `must be no more than ${MAX_TRIGGER_TEXT} characters (got ${path.length})`;
  let rest = path.slice(1);
  while (rest !== '') {
    const m = FIELD_STEP.exec(rest);
    if (!m) {
      return `unsupported JSONPath at "${rest}": use .name, .*, ..name, [n], [*] or ['name'] (filter and script expressions are not evaluated)`;
    }
    rest = rest.slice(m[0].length);
  }
  return null;
}

/** Why `name` is not an HTTP (or NATS) header name, or null (RFC 9110 token characters). */
export function headerNameProblem(name: string): string | null {
  if (name === '') return 'must not be empty';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return 'must be a header name: letters, digits and !#$%&\'*+.^_`|~-';
  return null;
}

/** Why `pattern` is not a regular expression a `matches` filter may use, or null. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length > MAX_TRIGGER_TEXT) return `must be no more than ${MAX_TRIGGER_TEXT} characters (got ${pattern.length})`;
  try {
    new RegExp(pattern, 'u');
    return null;
  } catch (err) {
    return `is not a regular expression: ${(err as Error).message}`;
  }
}
