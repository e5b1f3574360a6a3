/**
 * The write session. `mk dashboard` prints a link with a single-use `?token=`; the page POSTs it
 * to `/session` (the server redeems it and sets an HttpOnly cookie) and takes it out of the
 * address bar at once, so no secret stays in the URL or the browser's history. Without a token
 * the page is read-only; the server and the bus enforce that, not this page.
 */
import type { SessionResponse } from '../../protocol';

/** Where the token goes (protocol.ts SESSION_PATH). */
export const SESSION_PATH = '/session';

/** The URL without its `token` parameter (the rest kept), or null when it has none. */
export function withoutToken(href: string): { token: string; url: string } | null {
  const u = new URL(href);
  const token = u.searchParams.get('token');
  if (token === null) return null;
  u.searchParams.delete('token');
  return { token, url: `${u.pathname}${u.search}${u.hash}` };
}

/** Redeems a `?token=` of the page's URL, if any; resolves to the error to show, or undefined. */
export async function redeemToken(loc: Location, hist: History): Promise<string | undefined> {
  const found = withoutToken(loc.href);
  if (!found) return undefined;
  hist.replaceState(hist.state, '', found.url);
  try {
    const res = await fetch(SESSION_PATH, {
      method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: found.token }),
    });
    const body = (await res.json().catch(() => ({}))) as Partial<SessionResponse>;
    if (!res.ok || !body.ok) return `the write link was refused (${body.error ?? `HTTP ${res.status}`}): this page is read-only; run \`mk dashboard\` for a new link`;
    return undefined;
  } catch (e) {
    return `the write link could not be redeemed: ${(e as Error).message}`;
  }
}
