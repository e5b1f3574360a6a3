/**
 * `mk port-forward` end to end: a cluster (`mk up`) in a network namespace, a busybox httpd pod,
 * and HTTP through 127.0.0.1 in that namespace, relayed by the node agent over the bus. A CLI
 * SIGKILLed mid-transfer leaves the agent with no open stream (its mk.node.<node>.portforward.list
 * says so), and bad input fails with a message naming the problem. A node agent SIGKILLed under
 * an open connection ends the forward with "lost connection to pod" and exit 1, as kubectl does.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const ROOT = path.join(__dirname, '..', '..', '..');

const httpdPod = (name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: ${name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: httpd
      image: busybox
      command: ["sh", "-c", "mkdir -p /www && echo 'hello through the bus' > /www/index.html && dd if=/dev/zero of=/www/big bs=1M count=64 2>/dev/null && exec httpd -f -p 80 -h /www"]
      ports:
        - name: http
          containerPort: 80
`;

describeE2e('mk port-forward', () => {
  let c: TestCluster;
  const spawned: ChildProcess[] = [];

  /** Starts `mk port-forward ARGS` and resolves with it and its stdout once it printed `Forwarding from`. */
  async function forward(args: string[]): Promise<{ p: ChildProcess; out: () => string; exit: Promise<number | null> }> {
    const p = c.spawnMk(['port-forward', ...args]);
    spawned.push(p);
    let out = '';
    let errText = '';
    p.stdout!.on('data', (d) => { out += d; });
    p.stderr!.on('data', (d) => { errText += d; });
    const exit = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
    await waitFor(`port-forward ${args.join(' ')} listening (stderr: ${errText})`, async () => out.includes('Forwarding from'), 30_000, 100);
    return { p, out: () => out, exit };
  }

  /** The node agent's open port-forward streams, asked on its debug subject from inside the namespace. */
  async function openStreams(node: string): Promise<number> {
    const script = `
      const { connectWithContext } = require(${JSON.stringify(path.join(ROOT, 'dist/embedded/context'))});
      const { request } = require(${JSON.stringify(path.join(ROOT, 'dist/bus/core-client'))});
      (async () => {
        const { bus } = await connectWithContext(${JSON.stringify(c.dataDir)}, { name: 'e2e-pf-list' });
        const r = await request(bus, 'mk.node.' + ${JSON.stringify(node)} + '.portforward.list', {});
        process.stdout.write(String(r.streams.length));
        await bus.close();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = await c.run([process.execPath, '-e', script]);
    if (r.code !== 0) throw new Error(r.stderr);
    return Number(r.stdout);
  }

  const getPod = async (name: string): Promise<Pod> => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Pod;
  };

  beforeAll(async () => {
    c = await startCluster();
    expect(await c.mk(['apply', '-f', '-'], { stdin: httpdPod('pf') })).toMatchObject({ code: 0 });
    await waitFor('pod pf Running', async () => (await getPod('pf')).status?.phase === 'Running', 120_000);
  });
  afterAll(async () => {
    for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await c?.destroy();
  });

  it('forwards 127.0.0.1:18080 to the pod\'s port 80 and stops on SIGINT with exit 0', async () => {
    const f = await forward(['pod/pf', '18080:80']);
    expect(f.out()).toContain('Forwarding from 127.0.0.1:18080 -> 80');
    const page = await c.run(['timeout', '10', '/bin/busybox', 'wget', '-qO-', 'http://127.0.0.1:18080/']);
    expect(page).toMatchObject({ code: 0, stdout: 'hello through the bus\n' });
    // 64 MiB through one stream, counted at the far end.
    const big = await c.run(['sh', '-c', 'timeout 60 /bin/busybox wget -qO- http://127.0.0.1:18080/big | wc -c']);
    expect(big.stdout.trim()).toBe(String(64 * 2 ** 20));
    await waitFor('the streams closed on the node', async () => (await openStreams((await getPod('pf')).spec.nodeName!)) === 0, 15_000, 200);
    f.p.kill('SIGINT');
    expect(await f.exit).toBe(0);
  });

  it('picks a free local port for :NAME, and resolves a named port', async () => {
    const f = await forward(['pf', ':http']);
    const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(f.out());
    expect(m).not.toBeNull();
    const page = await c.run(['timeout', '10', '/bin/busybox', 'wget', '-qO-', `http://127.0.0.1:${m![1]}/`]);
    expect(page.stdout).toBe('hello through the bus\n');
    f.p.kill('SIGTERM');
    expect(await f.exit).toBe(0);
  });

  it('leaves the agent with no open stream when the CLI is SIGKILLed mid-transfer', async () => {
    const node = (await getPod('pf')).spec.nodeName!;
    const f = await forward(['pod/pf', '18081:80']);
    // A reader that stalls keeps the transfer going (flow control holds the rest back).
    const slow = c.run(['sh', '-c', 'timeout 30 /bin/busybox wget -qO- http://127.0.0.1:18081/big | (sleep 15; wc -c)']);
    await waitFor('a stream open on the node', async () => (await openStreams(node)) >= 1, 15_000, 100);
    f.p.kill('SIGKILL');
    // Closed by the agent noticing the dead client, long before the stalled reader would end it.
    await waitFor('no stream on the node', async () => (await openStreams(node)) === 0, 30_000, 200);
    await slow;
  });

  it('fails on bad input with a message naming the problem', async () => {
    const missing = await c.mk(['port-forward', 'pod/nope', '8080:80']);
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toContain('pods "nope" not found');
    const badPort = await c.mk(['port-forward', 'pod/pf', '8080:x_y']);
    expect(badPort).toMatchObject({ code: 1 });
    expect(badPort.stderr).toContain('invalid port "8080:x_y"');
    const noName = await c.mk(['port-forward', 'pod/pf', ':grpc']);
    expect(noName.stderr).toContain("pod 'pf' does not have a named port 'grpc'");
    // A pod that cannot be scheduled stays Pending.
    const pending = httpdPod('stuck').replace('spec:\n', 'spec:\n  nodeSelector:\n    no-such: label\n');
    expect(await c.mk(['apply', '-f', '-'], { stdin: pending })).toMatchObject({ code: 0 });
    const notRunning = await c.mk(['port-forward', 'pod/stuck', '8080:80']);
    expect(notRunning).toMatchObject({ code: 1 });
    expect(notRunning.stderr).toContain('pod is not running. Current status=Pending');
    // A port nothing listens on in the pod: the connection fails, the forward goes on and says why.
    const refused = await forward(['pod/pf', '18083:81']);
    let refusedErr = '';
    refused.p.stderr!.on('data', (d) => { refusedErr += d; });
    expect((await c.run(['timeout', '10', '/bin/busybox', 'wget', '-qO-', 'http://127.0.0.1:18083/'])).code).not.toBe(0);
    await waitFor('the refusal on stderr', async () => /an error occurred forwarding 18083 -> 81: .*ECONNREFUSED/.test(refusedErr), 10_000, 100);
    refused.p.kill('SIGINT');
    expect(await refused.exit).toBe(0);
    const first = await forward(['pod/pf', '18082:80']);
    const inUse = await c.mk(['port-forward', 'pod/pf', '18082:80']);
    expect(inUse).toMatchObject({ code: 1 });
    expect(inUse.stderr).toContain('unable to listen on port 18082 at 127.0.0.1: address already in use');
    first.p.kill('SIGINT');
    expect(await first.exit).toBe(0);
  });

  it('ends with "lost connection to pod" and exit 1 when the node agent is SIGKILLed with a connection open', async () => {
    const node = (await getPod('pf')).spec.nodeName!;
    const f = await forward(['pod/pf', '18084:80']);
    let errText = '';
    f.p.stderr!.on('data', (d) => { errText += d; });
    const slow = c.run(['sh', '-c', 'timeout 30 /bin/busybox wget -qO- http://127.0.0.1:18084/big | (sleep 15; wc -c)']);
    await waitFor('a stream open on the node', async () => (await openStreams(node)) >= 1, 15_000, 100);
    const agent = c.pidOf(' node-agent ');
    expect(agent).toBeGreaterThan(0);
    process.kill(agent!, 'SIGKILL');
    expect(await f.exit).toBe(1);
    expect(errText).toContain('error: lost connection to pod default/pf on node');
    // The transfer was cut short, not hung: the client's wget ends before its own timeout.
    const cut = await slow;
    expect(Number(cut.stdout.trim())).toBeLessThan(64 * 2 ** 20);
    // The supervisor's new agent serves a new forward.
    await waitFor('a new node agent', async () => { const p = c.pidOf(' node-agent '); return p && p !== agent ? p : null; }, 60_000, 200);
    await waitFor('a new forward through the new agent', async () => {
      const again = await forward(['pod/pf', '18085:80']);
      try {
        const page = await c.run(['timeout', '5', '/bin/busybox', 'wget', '-qO-', 'http://127.0.0.1:18085/']);
        return page.stdout === 'hello through the bus\n' ? true : null;
      } finally {
        again.p.kill('SIGKILL');
        await again.exit;
      }
    }, 60_000, 500);
  });
});
