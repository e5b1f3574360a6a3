/**
 * The request path the ingress proxy matches and forwards: percent-encoded unreserved characters
 * decoded (`%7E` -> `~`, `%2E` -> `.`), other percent-encodings upper-cased and kept (`%2f` ->
 * `%2F`, never a separator), then `.` and `..` segments resolved (RFC 3986 sections 6.2.2 and
 * 5.2.4). So `/api/../admin` is `/admin`: it matches the rules for `/admin` and is forwarded as
 * `/admin`, never as a path under `/api` that the upstream would resolve elsewhere. Pure.
 */

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** Resolves `.` and `..` segments of an absolute path; `..` above the root stays at the root. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((s, i) => {
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..' && out.length > 0) out.pop();
      // A trailing `.` or `..` leaves the path ending in `/`, as a directory.
      if (last) out.push('');
      return;
    }
    out.push(s);
  });
  return `/${out.join('/')}`;
}

/**
 * `rawUrl` (an origin-form request target: path and optional query) normalised, or undefined
 * when it is not one (no leading `/`, a bad percent-encoding): such a request is answered 400.
 */
export function normalizeRequestUrl(rawUrl: string): string | undefined {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q);
  if (!path.startsWith('/')) return undefined;
  let bad = false;
  const decoded = path.replace(/%(..)?/g, (m, hex: string | undefined) => {
    if (!hex || !/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bad = true;
      return m;
    }
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
  if (bad) return undefined;
  return removeDotSegments(decoded) + query;
}
