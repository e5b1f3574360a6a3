/**
 * The dashboard page: redeems a write link's token, opens the live feed, and mounts the view of
 * the URL's hash route (Back and links work). Views are plain functions that draw into <main>
 * and return their cleanup; the header holds the navigation, the time scrubber, the session's
 * badge and the connection indicator.
 */
import type { View } from './context';
import { h, replace } from './dom';
import { Feed, feedUrl, type FeedState } from './feed';
import { formatRoute, parseRoute, type Route } from './router';
import { scrubber } from './scrubber';
import { redeemToken } from './session';
import { actorView } from './views/actor';
import { actorsView } from './views/actors';
import { lagView } from './views/lag';
import { nodesView } from './views/nodes';
import { objectView } from './views/object';
import { objectsView } from './views/objects';
import { subjectView } from './views/subject';
import { usageView } from './views/usage';

const VIEWS: Record<Route['view'], View> = {
  actors: actorsView, actor: actorView, objects: objectsView, object: objectView,
  nodes: nodesView, usage: usageView, lag: lagView, subject: subjectView,
};
/** The views that can show the past; the others show now, and say so. */
const HISTORIC: ReadonlySet<Route['view']> = new Set(['actors', 'actor', 'object']);

function titleOf(r: Route): string {
  switch (r.view) {
    case 'actor': return r.path;
    case 'objects': return r.plural;
    case 'object': return `${r.plural}/${r.name}`;
    case 'subject': return r.subject ?? 'subjects';
    default: return r.view;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

async function boot(): Promise<void> {
  const notice = byId('notice');
  const tokenError = await redeemToken(location, history);
  if (tokenError) { notice.textContent = tokenError; notice.hidden = false; }

  const feed = new Feed(feedUrl(location));
  const main = byId('view');
  const conn = byId('conn');
  const session = byId('session');
  const past = byId('past');
  let writable = false;
  let cleanup: (() => void) | undefined;
  let mountedHash = '';

  const mount = (): void => {
    cleanup?.();
    const route = parseRoute(location.hash);
    mountedHash = location.hash;
    for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('#nav a'))) {
      a.classList.toggle('active', a.dataset.view === route.view || (a.dataset.view === 'objects' && route.view === 'object') || (a.dataset.view === 'actors' && route.view === 'actor'));
    }
    if (route.at) {
      const live = { ...route, at: undefined } as Route;
      replace(past, `Showing the past: ${new Date(route.at).toISOString()}`,
        HISTORIC.has(route.view) ? '' : ' (this view has no history: it shows now)',
        h('button', { type: 'button', class: 'live', onclick: () => { location.hash = formatRoute(live); } }, 'back to live'));
      past.hidden = false;
    } else {
      past.hidden = true;
    }
    document.body.classList.toggle('in-past', !!route.at);
    document.title = `mk: ${titleOf(route)}${route.at ? ' (past)' : ''}`;
    scrubberBox.set(route.at);
    main.replaceChildren();
    cleanup = VIEWS[route.view](main, {
      feed, route, writable,
      navigate: (r) => { location.hash = formatRoute(r); },
      replace: (r) => { location.hash = formatRoute(r); },
    });
  };

  const scrubberBox = scrubber(byId('scrubber'), (at) => {
    const route = parseRoute(location.hash);
    location.hash = formatRoute({ ...route, at } as Route);
  });

  feed.onState((state: FeedState, hello) => {
    conn.className = `conn conn-${state}`;
    conn.textContent = state === 'open' ? 'live' : state === 'connecting' ? 'connecting' : 'disconnected, reconnecting';
    if (state !== 'open' || !hello) return;
    session.textContent = hello.writable ? 'write session' : 'read-only';
    session.className = `badge${hello.writable ? ' write' : ''}`;
    session.title = hello.writable ? `writes as ${hello.identity}` : `reads as ${hello.identity}; run \`mk dashboard\` for a write link`;
    if (hello.writable !== writable) { writable = hello.writable; mount(); }
  });
  window.addEventListener('hashchange', () => { if (location.hash !== mountedHash) mount(); });
  feed.start();
  mount();
}

void boot();
