import { isValidation } from '../../messages';
import { ensureServiceRoute, keepServiceRoute, removeServiceRoute, serviceRouteTarget, SERVICE_DEVICE } from './service-route';

/**
 * A fake `ip` holding a link table and a route table: `route get` answers through the longest
 * matching route (none: "Network is unreachable"); `link add ... type dummy` fails when `dummy`
 * is false, as on a kernel without the driver. Deleting a link removes its routes, as the kernel does.
 */
function fakeIp(o: { routes?: { dst: string; dev?: string }[]; dummy?: boolean; links?: string[] } = {}) {
  const calls: string[] = [];
  const links = new Map<string, { kind: string; up: boolean }>((o.links ?? []).map((l) => [l, { kind: 'dummy', up: true }]));
  const routes = [...(o.routes ?? [])];
  const toNum = (ip: string) => ip.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  const covers = (dst: string, ip: string) => {
    if (dst === 'default') return true;
    const [base, prefix] = dst.split('/');
    const size = 2 ** (32 - Number(prefix));
    return Math.floor(toNum(ip) / size) === Math.floor(toNum(base) / size);
  };
  const exec = async (cmd: string, args: string[]): Promise<string> => {
    calls.push([cmd, ...args].join(' '));
    const a = args.join(' ');
    if (a.startsWith('-j -4 route get ')) {
      const ip = args[4];
      const hit = routes.filter((r) => covers(r.dst, ip)).sort((x, y) => Number(y.dst.split('/')[1] ?? 0) - Number(x.dst.split('/')[1] ?? 0))[0];
      if (!hit) throw new Error('RTNETLINK answers: Network is unreachable');
      return JSON.stringify([{ dst: ip, ...(hit.dev ? { dev: hit.dev } : { type: 'blackhole' }) }]);
    }
    let m = /^link add (\S+) type (\S+)$/.exec(a);
    if (m) {
      if (m[2] === 'dummy' && o.dummy === false) throw new Error('Error: Unknown device type.');
      if (links.has(m[1])) throw new Error('RTNETLINK answers: File exists');
      links.set(m[1], { kind: m[2], up: false });
      return '';
    }
    m = /^link set dev (\S+) up$/.exec(a);
    if (m) {
      const l = links.get(m[1]);
      if (!l) throw new Error(`Cannot find device "${m[1]}"`);
      l.up = true;
      return '';
    }
    m = /^link del dev (\S+)$/.exec(a);
    if (m) {
      if (!links.delete(m[1])) throw new Error(`Cannot find device "${m[1]}"`);
      for (let i = routes.length - 1; i >= 0; i--) if (routes[i].dev === m[1]) routes.splice(i, 1);
      return '';
    }
    m = /^route add (\S+) dev (\S+) proto 77$/.exec(a);
    if (m) {
      if (!links.get(m[2])?.up) throw new Error(`Cannot find device "${m[2]}"`);
      if (routes.some((r) => r.dst === m![1])) throw new Error('RTNETLINK answers: File exists');
      routes.push({ dst: m[1], dev: m[2] });
      return '';
    }
    throw new Error(`unexpected: ${cmd} ${a}`);
  };
  return { calls, exec, links, routes };
}

describe('ensureServiceRoute', () => {
  it('routes the service CIDR to a device of its own when no route leads there', async () => {
    const ip = fakeIp({ routes: [{ dst: '172.31.0.0/24', dev: 'eth0' }, { dst: '10.244.1.0/24', dev: 'mk0' }] });
    expect(await ensureServiceRoute('10.96.0.0/12', ip.exec)).toBe('added');
    expect(ip.links.get(SERVICE_DEVICE)).toEqual({ kind: 'dummy', up: true });
    expect(ip.routes).toContainEqual({ dst: '10.96.0.0/12', dev: SERVICE_DEVICE });
    // Never the pod bridge: a pod's packet sent back out of the link it came in on earns an ICMP redirect.
    expect(ip.calls.some((c) => c.includes('mk0'))).toBe(false);
    // Run again (a restart, a resync): nothing changes.
    const before = ip.calls.length;
    expect(await ensureServiceRoute('10.96.0.0/12', ip.exec)).toBe('present');
    expect(ip.calls.slice(before)).toEqual(['ip -j -4 route get 10.96.0.1']);
  });

  it('makes an empty bridge where the kernel has no dummy driver', async () => {
    const ip = fakeIp({ dummy: false });
    expect(await ensureServiceRoute('10.96.0.0/12', ip.exec)).toBe('added');
    expect(ip.links.get(SERVICE_DEVICE)).toEqual({ kind: 'bridge', up: true });
    expect(ip.routes).toEqual([{ dst: '10.96.0.0/12', dev: SERVICE_DEVICE }]);
  });

  it('leaves a node whose routes lead to the range (a default route, a blackhole) as it is', async () => {
    for (const routes of [[{ dst: 'default', dev: 'eth0' }], [{ dst: '10.0.0.0/8' }]]) {
      const ip = fakeIp({ routes });
      expect(await ensureServiceRoute('10.100.0.0/16', ip.exec)).toBe('covered');
      expect(ip.calls).toEqual(['ip -j -4 route get 10.100.0.1']);
    }
  });

  it('keeps a device left by an earlier run, and leaves someone\'s route for exactly the range', async () => {
    const ip = fakeIp({ links: [SERVICE_DEVICE] });
    expect(await ensureServiceRoute('10.96.0.0/12', ip.exec)).toBe('added');
    expect(ip.links.size).toBe(1);
    const unreachable = fakeIp({ routes: [] });
    // `route get` fails for an `unreachable` route, and `route add` then finds it in the way.
    unreachable.routes.push({ dst: '10.96.0.0/12', dev: 'unreachable-route' });
    const get = unreachable.exec;
    const exec = async (cmd: string, args: string[]) => {
      if (args.includes('get')) throw new Error('RTNETLINK answers: No route to host');
      return get(cmd, args);
    };
    expect(await ensureServiceRoute('10.96.0.0/12', exec)).toBe('covered');
    expect(unreachable.routes).toEqual([{ dst: '10.96.0.0/12', dev: 'unreachable-route' }]);
  });

  it('clears host bits and refuses a malformed range, naming it', async () => {
    expect(serviceRouteTarget('10.96.5.7/12')).toEqual({ dst: '10.96.0.0/12', probe: '10.96.0.1' });
    for (const bad of ['10.96.0.0', '10.96.0.0/33', 'fd00::/108', '300.1.0.0/16']) {
      const ip = fakeIp();
      const err = await ensureServiceRoute(bad, ip.exec).catch((e: unknown) => e);
      expect(isValidation(err)).toBe(true);
      expect(String(err)).toContain(`service CIDR "${bad}" is not an IPv4 CIDR`);
      expect(ip.calls).toEqual([]);
    }
  });

  it('throws what `ip` says when the device cannot be made', async () => {
    const exec = async (_cmd: string, args: string[]): Promise<string> => {
      if (args.includes('get')) throw new Error('RTNETLINK answers: Network is unreachable');
      throw new Error('RTNETLINK answers: Operation not permitted');
    };
    await expect(ensureServiceRoute('10.96.0.0/12', exec)).rejects.toThrow('Operation not permitted');
  });
});

describe('removeServiceRoute', () => {
  it('removes the device and the route with it, and is a no-op when there is none', async () => {
    const ip = fakeIp({ routes: [{ dst: '172.31.0.0/24', dev: 'eth0' }] });
    await ensureServiceRoute('10.96.0.0/12', ip.exec);
    expect(await removeServiceRoute(ip.exec)).toBe(true);
    expect(ip.links.size).toBe(0);
    expect(ip.routes).toEqual([{ dst: '172.31.0.0/24', dev: 'eth0' }]);
    expect(await removeServiceRoute(ip.exec)).toBe(false);
  });
});

describe('keepServiceRoute', () => {
  const log = () => ({ info: jest.fn(), warn: jest.fn() });
  beforeEach(() => { jest.useFakeTimers(); });
  afterEach(() => { jest.useRealTimers(); });

  it('tries again after a failure, warning once per new error, then brings back a removed route', async () => {
    const ip = fakeIp();
    let failures = 2;
    const exec = async (cmd: string, args: string[]) => {
      if (args[0] === 'link' && args[1] === 'add' && failures-- > 0) throw new Error('RTNETLINK answers: Device or resource busy');
      return ip.exec(cmd, args);
    };
    const l = log();
    const keep = keepServiceRoute({ serviceCIDR: '10.96.0.0/12', log: l, retryMs: 1_000, resyncMs: 30_000, exec });
    await jest.advanceTimersByTimeAsync(0);
    expect(ip.routes).toEqual([]);
    expect(l.warn).toHaveBeenCalledTimes(1);
    // Two failures, each followed by a try 1 s later; the same error is not logged again.
    await jest.advanceTimersByTimeAsync(2_000);
    expect(ip.routes).toEqual([{ dst: '10.96.0.0/12', dev: SERVICE_DEVICE }]);
    expect(l.warn).toHaveBeenCalledTimes(1);
    expect(l.info).toHaveBeenCalledTimes(1);
    // Someone removes the route: the check 30 s later makes it again, and says so.
    ip.routes.length = 0;
    await jest.advanceTimersByTimeAsync(29_000);
    expect(ip.routes).toEqual([]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(ip.routes).toEqual([{ dst: '10.96.0.0/12', dev: SERVICE_DEVICE }]);
    expect(l.info).toHaveBeenCalledTimes(2);
    keep.stop();
    const calls = ip.calls.length;
    await jest.advanceTimersByTimeAsync(120_000);
    expect(ip.calls.length).toBe(calls);
  });

  it('says once that the node\'s own routes lead there, and refuses a malformed range at once', async () => {
    const ip = fakeIp({ routes: [{ dst: 'default', dev: 'eth0' }] });
    const l = log();
    const keep = keepServiceRoute({ serviceCIDR: '10.96.0.0/12', log: l, exec: ip.exec });
    await jest.advanceTimersByTimeAsync(90_000);
    keep.stop();
    expect(ip.calls).toEqual(Array(4).fill('ip -j -4 route get 10.96.0.1'));
    expect(l.info).toHaveBeenCalledTimes(1);
    expect(ip.links.size).toBe(0);
    expect(() => keepServiceRoute({ serviceCIDR: '10.96.0.0', log: l, exec: ip.exec })).toThrow('service CIDR "10.96.0.0"');
  });
});
