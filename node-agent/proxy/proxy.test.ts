/**
 * The sync loop of startServiceProxy against stand-in commands (a script run through the command
 * prefix that keeps what iptables-restore is given): one iptables-restore per sync, only changed chains
 * after the first, bursts coalesced, a failure making the next sync full.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EndpointSliceView, ServiceNetworkChange, ServiceNetworkSource, ServiceView } from '../service-network/types';
import { serviceChains } from './chains';
import { startServiceProxy, type ServiceProxy } from './proxy';

/** Keeps each iptables-restore input as restore.<n>; fails it while a `fail` file exists. */
const FAKE = `d=$(dirname "$0")
input=$(cat)
case "$1" in
  iptables-restore)
    n=$(ls "$d" | grep -c '^restore\\.')
    printf '%s' "$input" > "$d/partial" && mv "$d/partial" "$d/restore.$n"
    echo restore >> "$d/events"
    if [ -e "$d/fail" ]; then echo 'iptables-restore: line 2 failed' >&2; exit 1; fi ;;
  iptables-save)
    echo save-start >> "$d/events"
    if [ -e "$d/slow" ]; then sleep 0.5; fi
    echo save-end >> "$d/events" ;;
  sysctl) if [ "$2" = -n ]; then echo 1; fi ;;
  iptables) for a in "$@"; do case "$a" in -C|-D) exit 1 ;; esac; done ;;
  conntrack) echo "$*" >> "$d/conntrack" ;;
esac
exit 0
`;

class FakeSource implements ServiceNetworkSource {
  svcs = new Map<string, ServiceView>();
  slices = new Map<string, EndpointSliceView[]>();
  listeners = new Set<(c: ServiceNetworkChange) => void>();
  services(): ServiceView[] { return [...this.svcs.values()]; }
  service(ns: string, name: string): ServiceView | undefined { return this.svcs.get(`${ns}/${name}`); }
  slicesOf(ns: string, name: string): EndpointSliceView[] { return this.slices.get(`${ns}/${name}`) ?? []; }
  onChange(l: (c: ServiceNetworkChange) => void): () => void { this.listeners.add(l); return () => this.listeners.delete(l); }
  set(name: string, ip: string, backends: string[], protocol: 'TCP' | 'UDP' = 'TCP'): void {
    this.svcs.set(`default/${name}`, { metadata: { name, namespace: 'default' }, spec: { clusterIP: ip, ports: [{ name: 'http', port: 80, protocol }] } });
    this.slices.set(`default/${name}`, [{
      metadata: { name: `${name}-1`, namespace: 'default' }, addressType: 'IPv4',
      endpoints: backends.map((b) => ({ addresses: [b] })), ports: [{ name: 'http', port: 8080, protocol }],
    }]);
    for (const l of this.listeners) l({ namespace: 'default', service: name });
  }
}

let dir: string;
let proxy: ServiceProxy | undefined;
const restores = (): string[] => {
  const out: string[] = [];
  for (let n = 0; existsSync(path.join(dir, `restore.${n}`)); n++) out.push(readFileSync(path.join(dir, `restore.${n}`), 'utf8'));
  return out;
};
const log = { info: () => undefined, warn: jest.fn() };
beforeEach(() => log.warn.mockClear());
jest.setTimeout(20_000);

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mk-proxy-unit-'));
  writeFileSync(path.join(dir, 'fake.sh'), FAKE);
});
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const start = async (source: FakeSource, minSyncIntervalMs = 100): Promise<ServiceProxy> => {
  proxy = await startServiceProxy({
    retry: { initialMs: 200, maxMs: 200 },
    source, log, prefix: ['/bin/sh', path.join(dir, 'fake.sh')], minSyncIntervalMs, fullResyncMs: 3_600_000, metrics: false,
    node: { name: 'n1', clusterCIDR: '10.244.0.0/16' },
  });
  return proxy;
};

const until = async (what: string, ok: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

it('writes everything once at start, then only the changed chains, coalescing a burst into one restore', async () => {
  const source = new FakeSource();
  source.set('web', '10.96.0.10', ['10.244.1.2', '10.244.1.3']);
  source.set('api', '10.96.0.11', ['10.244.1.4']);
  await start(source, 300);
  expect(restores()).toHaveLength(1);
  expect(restores()[0]).toContain(`:${serviceChains('default/api:http/TCP').svc} - [0:0]`);

  // A burst of changes to one service: one more restore, naming only what changed.
  for (let i = 5; i < 10; i++) source.set('web', '10.96.0.10', ['10.244.1.2', `10.244.1.${i}`]);
  await until('the second restore', () => restores().length === 2);
  await new Promise((r) => setTimeout(r, 400));
  expect(restores()).toHaveLength(2);
  const second = restores()[1];
  expect(second).toContain(`:${serviceChains('default/web:http/TCP').svc} - [0:0]`);
  expect(second).not.toContain(serviceChains('default/api:http/TCP').svc);
  expect(second).not.toContain('*filter');
  expect(second).toContain('--to-destination 10.244.1.9:8080');
  expect(second).not.toContain('--to-destination 10.244.1.5:8080');
});

/** Starts the proxy on one service, makes iptables-restore fail, and changes an endpoint: the sync fails. */
async function failOneChange(): Promise<void> {
  const source = new FakeSource();
  source.set('web', '10.96.0.10', ['10.244.1.2']);
  await start(source, 10);
  writeFileSync(path.join(dir, 'fail'), '');
  source.set('web', '10.96.0.10', ['10.244.1.3']);
  await until('the failed sync', () => log.warn.mock.calls.length > 0);
}

it('makes the next sync full after a failed restore', async () => {
  await failOneChange();
  expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ full: false }), expect.stringMatching(/next sync is full/));
  expect(restores()).toHaveLength(2);
  rmSync(path.join(dir, 'fail'));
  // Retried after the backoff, without any change.
  await until('the retry', () => restores().length === 3);
  // The retry rewrites every chain, the unchanged fixed ones too.
  expect(restores()[2]).toContain(':MK-MARK-MASQ - [0:0]');
  expect(restores()[2]).toContain('*filter');
});

it('does nothing when nothing changed', async () => {
  const source = new FakeSource();
  source.set('web', '10.96.0.10', ['10.244.1.2']);
  await start(source, 10);
  source.set('web', '10.96.0.10', ['10.244.1.2']);
  await proxy!.sync();
  await proxy!.sync();
  expect(restores()).toHaveLength(1);
});

it('deletes the conntrack entries of a UDP endpoint that went away', async () => {
  const source = new FakeSource();
  source.set('dns', '10.96.0.10', ['10.244.1.2', '10.244.1.3'], 'UDP');
  await start(source, 10);
  source.set('dns', '10.96.0.10', ['10.244.1.2'], 'UDP');
  await proxy!.sync();
  expect(readFileSync(path.join(dir, 'conntrack'), 'utf8').trim().split('\n')).toEqual([
    'conntrack --version', 'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 80 --dst-nat 10.244.1.3',
  ]);
});

it('logs the restore input line a failed sync was refused at', async () => {
  await failOneChange();
  const line = restores()[1].split('\n')[1];
  expect(line.length).toBeGreaterThan(0);
  expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.stringContaining(`line 2: ${line}`) }), expect.any(String));
});

it('runs no other pass while the first one is still going', async () => {
  const source = new FakeSource();
  source.set('web', '10.96.0.10', ['10.244.1.2']);
  writeFileSync(path.join(dir, 'slow'), '');
  const started = start(source, 0);
  // A change while the first (full) pass reads the chains.
  await until('the first pass', () => existsSync(path.join(dir, 'events')));
  source.set('web', '10.96.0.10', ['10.244.1.3']);
  await started;
  await until('the second restore', () => restores().length === 2);
  expect(readFileSync(path.join(dir, 'events'), 'utf8').trim().split('\n'))
    .toEqual(['save-start', 'save-end', 'save-start', 'save-end', 'restore', 'restore']);
});

it('clears the conntrack entries of a UDP service that gains its first endpoint', async () => {
  const source = new FakeSource();
  source.set('dns', '10.96.0.10', [], 'UDP');
  await start(source, 10);
  source.set('dns', '10.96.0.10', ['10.244.1.2'], 'UDP');
  await proxy!.sync();
  source.set('dns', '10.96.0.10', ['10.244.1.2', '10.244.1.3'], 'UDP');
  await proxy!.sync();
  // Once for the first endpoint; the second one changes nothing for the service address.
  expect(readFileSync(path.join(dir, 'conntrack'), 'utf8').trim().split('\n')).toEqual([
    'conntrack --version', 'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 80',
  ]);
});
