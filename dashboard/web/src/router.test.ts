import { formatRoute, HOME, parseRoute, type Route } from './router';

describe('hash routes', () => {
  const routes: Route[] = [
    HOME,
    { view: 'actors', process: 'cp-a', search: 'pod x', sort: 'mailbox', page: 3, showSystem: true, at: '2026-01-02T03:04:05.000Z' },
    { view: 'actor', process: 'node-n1', path: '/node/pods/default$web', at: undefined },
    { view: 'objects', plural: 'pods', namespace: 'kube-system', labels: 'app in (web),tier!=db', page: 1 },
    { view: 'object', plural: 'nodes', namespace: undefined, name: 'n1' },
    { view: 'object', plural: 'pods', namespace: 'default', name: 'web', at: '2026-01-02T03:04:05.000Z' },
    { view: 'nodes' }, { view: 'usage' }, { view: 'lag' }, { view: 'subject', subject: 'mk.sys.actor.*.lifecycle' }, { view: 'subject' },
  ];
  it.each(routes.map((r) => [formatRoute(r), r]))('%s reads back as the route it came from', (hash, r) => {
    const back = parseRoute(hash as string);
    expect(back).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it('takes anything unknown or malformed as the home route, keeping only a valid time', () => {
    expect(parseRoute('')).toEqual(HOME);
    expect(parseRoute('#/nowhere')).toEqual(HOME);
    expect(parseRoute('#/object/pods/only-two')).toEqual(HOME);
    expect(parseRoute('#/actor/%E0%A4%A')).toEqual(HOME);
    expect(parseRoute('#/actors?page=-2&sort=bogus&at=not-a-time')).toEqual(HOME);
  });

  it('encodes what a path may hold, so an actor path with slashes and $ survives', () => {
    const hash = formatRoute({ view: 'actor', process: 'cp-a', path: '/leader-3/pods/default$demo' });
    expect(hash).toBe('#/actor/cp-a/%2Fleader-3%2Fpods%2Fdefault%24demo');
    expect(parseRoute(hash)).toMatchObject({ path: '/leader-3/pods/default$demo' });
  });
});
