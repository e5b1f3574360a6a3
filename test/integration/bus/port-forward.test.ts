/**
 * The port-forward stream protocol (messages/port-forward.ts, bus/relay-stream.ts) over a real
 * nats-server: one side driven frame by frame for ordering, the credit window, CLOSE and the
 * liveness timeout; then the node agent's server (node-agent/port-forward.ts) and the CLI's
 * forwarder (cli/port-forward.ts) end to end to a TCP echo server standing in for a pod: 20 MB
 * byte-exact through one stream, 50 connections at once, half-close, either side dying, and the
 * requests a node refuses.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { register } from 'prom-client';
import { connectBus, type Bus } from '../../../bus/connection';
import { PEER_SILENT, RelayStream } from '../../../bus/relay-stream';
import { forwardConnection } from '../../../cli/port-forward';
import { setLogLevel } from '../../../common/log';
import { isNotFound, isValidation, UnavailableError, type Pod } from '../../../messages';
import { request } from '../../../bus/request';
import {
  decodeFrame, encodeFrame, portForwardListSubject, portForwardStreamSubject, portForwardSubject, type Frame, type PortForwardList,
} from '../../../messages/port-forward';
import { servePortForward, type PortForwardServer } from '../../../node-agent/port-forward';
import { caught, startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(60_000);

let server: NatsServer;
const buses: Bus[] = [];
const closers: (() => unknown)[] = [];

const connect = async (name: string): Promise<Bus> => {
  const b = await connectBus({ servers: server.url, name, checkJetStream: false });
  buses.push(b);
  return b;
};

/** Two ends of a loopback TCP connection: `near` for a relay, `far` for the test. */
async function socketPair(): Promise<{ near: net.Socket; far: net.Socket }> {
  const srv = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
  const far = net.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const near = await accepted;
  srv.close();
  closers.push(() => { near.destroy(); far.destroy(); });
  return { near, far };
}

/** Everything `s` yields until its end. */
const readAll = (s: net.Socket): Promise<Buffer> => new Promise((resolve, reject) => {
  const parts: Buffer[] = [];
  s.on('data', (b: Buffer) => parts.push(b));
  s.on('end', () => resolve(Buffer.concat(parts)));
  s.on('error', reject);
});

/** The subscriptions a connection holds, from the server's monitoring endpoint. */
async function subsOf(name: string): Promise<string[]> {
  const connz = await (await fetch(`${server.monitorUrl}/connz?subs=1`)).json() as { connections: { name?: string; subscriptions_list?: string[] }[] };
  return connz.connections.find((c) => c.name === name)?.subscriptions_list ?? [];
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  setLogLevel('silent');
  server = await startNatsServer({ monitor: true });
});
afterEach(() => {
  for (const c of closers.splice(0)) c();
});
afterAll(async () => {
  for (const b of buses) await b.close();
  await server?.stop();
});

describe('a relay stream', () => {
  let bus: Bus;
  let peer: Bus;
  beforeAll(async () => {
    bus = await connect('relay-side');
    peer = await connect('raw-peer');
  });

  /** A relay on a fresh pair, and the frames it sends as the raw peer sees them. */
  async function relayWithPeer(id: string, opts: { window?: number; chunkBytes?: number; pingMs?: number; deadAfterMs?: number } = {}) {
    const { near, far } = await socketPair();
    const sent: Frame[] = [];
    const sub = peer.nc.subscribe(`test.${id}.out`, { callback: (_e, m) => { sent.push(decodeFrame(m.data)); } });
    closers.push(() => sub.unsubscribe());
    await peer.nc.flush();
    const relay = new RelayStream({ nc: bus.nc, socket: near, sendSubject: `test.${id}.out`, recvSubject: `test.${id}.in`, ...opts });
    closers.push(() => relay.close());
    await bus.nc.flush();
    const put = (f: Frame): void => peer.nc.publish(`test.${id}.in`, encodeFrame(f));
    return { relay, far, sent, put };
  }

  it('writes frames in sequence order whatever order they arrive in, and ends on EOF', async () => {
    const { far, put, sent } = await relayWithPeer('order');
    const got = readAll(far);
    await until('the first ACK 0', () => (sent.some((f) => f.type === 'ack' && f.seq === 0) ? true : undefined));
    put({ type: 'data', seq: 3, data: Buffer.from('c') });
    put({ type: 'eof', seq: 4 });
    put({ type: 'data', seq: 1, data: Buffer.from('a') });
    put({ type: 'data', seq: 1, data: Buffer.from('X') }); // a duplicate is dropped
    put({ type: 'data', seq: 2, data: Buffer.from('b') });
    expect((await got).toString()).toBe('abc');
  });

  it('never has more DATA frames unacknowledged than its window, and sends them all as credit comes', async () => {
    const window = 4;
    const { far, put, sent } = await relayWithPeer('window', { window, chunkBytes: 1000 });
    const payload = randomBytes(100_000);
    far.end(payload);
    let acked = 0;
    const received: Buffer[] = [];
    let maxAhead = 0;
    // Acknowledge slowly, one frame at a time, checking the credit at every step.
    await until('every chunk and the EOF', async () => {
      const data = sent.filter((f): f is Extract<Frame, { type: 'data' }> => f.type === 'data');
      for (const f of data) maxAhead = Math.max(maxAhead, f.seq - acked);
      if (data.length > acked) {
        received.push(Buffer.from(data[acked].data));
        acked++;
        put({ type: 'ack', seq: acked });
        await peer.nc.flush();
      }
      return sent.some((f) => f.type === 'eof') && acked === data.length ? true : undefined;
    }, 30_000, 1);
    expect(maxAhead).toBeLessThanOrEqual(window);
    expect(maxAhead).toBe(window); // the window was used, not just respected
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    const chunks = sent.filter((f) => f.type === 'data').length;
    expect(sent.find((f) => f.type === 'eof')).toEqual({ type: 'eof', seq: chunks + 1 });
  });

  it('closes on CLOSE from the peer: the socket is destroyed and the subscription gone', async () => {
    const { relay, far, put } = await relayWithPeer('close');
    expect(await subsOf('relay-side')).toContain('test.close.in');
    // The far end sees its peer go (an end, or a reset).
    const farClosed = new Promise((r) => { far.on('end', r); far.on('close', r); });
    far.on('error', () => undefined);
    far.resume();
    put({ type: 'close', reason: 'pod went away' });
    await expect(relay.done).resolves.toBe('pod went away');
    await farClosed;
    await bus.nc.flush();
    expect(await subsOf('relay-side')).not.toContain('test.close.in');
  });

  it('closes a stream whose peer fell silent, by its own liveness limit, and keeps one whose peer pings', async () => {
    const silent = await relayWithPeer('silent', { pingMs: 100, deadAfterMs: 500 });
    // The peer never sends a frame, so only the silence check can end the relay: the reason names
    // the limit it was given (not the default one).
    await expect(silent.relay.done).resolves.toBe(`${PEER_SILENT} for 0.5 s`);
    // It told the peer, in case the peer still listens.
    await until('the CLOSE', () => silent.sent.find((f) => f.type === 'close'));
    expect(silent.sent.at(-1)).toEqual({ type: 'close', reason: `${PEER_SILENT} for 0.5 s` });

    // Two relays pinging each other outlive deadAfterMs many times over.
    const a = await socketPair();
    const b = await socketPair();
    const pings: number[] = [];
    const spy = peer.nc.subscribe('test.live.>', { callback: (_e, m) => { if (decodeFrame(m.data).type === 'ping') pings.push(Date.now()); } });
    closers.push(() => spy.unsubscribe());
    const opts = { nc: bus.nc, pingMs: 100, deadAfterMs: 300 };
    const r1 = new RelayStream({ ...opts, socket: a.near, sendSubject: 'test.live.1', recvSubject: 'test.live.2', waitForPeer: true });
    const r2 = new RelayStream({ ...opts, socket: b.near, sendSubject: 'test.live.2', recvSubject: 'test.live.1' });
    closers.push(() => { r1.close(); r2.close(); });
    await until('pings over 5 x deadAfterMs', () => (pings.length > 1 && pings.at(-1)! - pings[0] > 1_500 ? true : undefined), 10_000);
    expect(r1.isClosed || r2.isClosed).toBe(false);
  });
});

describe('port-forward through a node agent', () => {
  let nodeBus: Bus;
  let cliBus: Bus;
  let echo: net.Server;
  let echoPort: number;
  let pf: PortForwardServer;
  const pod = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'n1' } } as Pod);
  const pods = new Map([['default/web', pod('web')]]);

  beforeAll(async () => {
    // The pod: echoes what it reads and ends its side after the client ended its own.
    echo = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => undefined); s.pipe(s); });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as net.AddressInfo).port;
    nodeBus = await connect('node-n1');
    cliBus = await connect('cli');
    pf = servePortForward(nodeBus, { nodeName: 'n1', pods, podIP: async () => '127.0.0.1', pingMs: 200, deadAfterMs: 1_500 });
    await pf.ready;
  });
  afterAll(async () => {
    await pf?.stop();
    echo?.close();
  });

  /** A local connection forwarded to the pod's echo port: the test's end and the relay. */
  async function forwarded(bus: Bus = cliBus): Promise<{ client: net.Socket; relay: RelayStream }> {
    const { near, far } = await socketPair();
    const relay = await forwardConnection(bus, 'n1', { namespace: 'default', pod: 'web', port: echoPort }, near, { pingMs: 200, deadAfterMs: 1_500 });
    return { client: far, relay };
  }

  it('carries 20 MB through one stream, byte-exact both ways, and leaves no stream open', async () => {
    const { client, relay } = await forwarded();
    const payload = randomBytes(20 * 2 ** 20);
    const back = readAll(client);
    client.end(payload);
    const got = await back;
    expect(got.length).toBe(payload.length);
    expect(sha(got)).toBe(sha(payload));
    await expect(relay.done).resolves.toBeUndefined();
    await until('no stream on the node', () => (pf.streams().length === 0 ? true : undefined), 5_000);
  });

  it('serves 50 connections at once, each its own bytes', async () => {
    const conns = await Promise.all(Array.from({ length: 50 }, () => forwarded()));
    expect((await request<PortForwardList>(cliBus, portForwardListSubject('n1'), {})).streams).toHaveLength(50);
    expect((await register.getSingleMetricAsString('mk_portforward_streams'))).toMatch(/^mk_portforward_streams 50$/m);
    const payloads = conns.map(() => randomBytes(64 * 1024 + Math.floor(Math.random() * 4096)));
    const results = await Promise.all(conns.map(({ client }, i) => {
      const back = readAll(client);
      client.end(payloads[i]);
      return back;
    }));
    results.forEach((r, i) => expect(sha(r)).toBe(sha(payloads[i])));
    await Promise.all(conns.map((c) => c.relay.done));
    await until('no stream on the node', () => (pf.streams().length === 0 ? true : undefined), 5_000);
    expect((await register.getSingleMetricAsString('mk_portforward_streams'))).toMatch(/^mk_portforward_streams 0$/m);
  });

  it('half-closes: the pod still answers after the client ended its side', async () => {
    const { client } = await forwarded();
    const back = readAll(client);
    client.write('first ');
    client.end('last');
    expect((await back).toString()).toBe('first last');
  });

  it('closes the node side by its liveness limit when the CLI dies without a word', async () => {
    const dying = await connect('cli-dying');
    const { client } = await forwarded(dying);
    client.on('error', () => undefined);
    client.write('hello');
    await until('the stream open on the node', () => (pf.streams().length === 1 ? true : undefined), 5_000);
    // What the node's side sends towards the CLI, seen from another connection.
    const [{ streamId }] = pf.streams();
    const down: Frame[] = [];
    const spy = cliBus.nc.subscribe(portForwardStreamSubject('n1', streamId, 'down'), { callback: (_e, m) => { down.push(decodeFrame(m.data)); } });
    closers.push(() => spy.unsubscribe());
    await cliBus.nc.flush();
    // As a SIGKILLed CLI: the connection goes, no CLOSE is sent.
    await dying.nc.close();
    await until('the node\'s side of the stream to close', () => (pf.streams().length === 0 ? true : undefined), 30_000);
    // Nothing came from the CLI any more, so the node's silence limit (1.5 s here) ended it, and the
    // node said so in its CLOSE.
    await until('the node\'s CLOSE', () => down.find((f) => f.type === 'close'), 5_000);
    expect(down.filter((f) => f.type === 'close')).toEqual([{ type: 'close', reason: `${PEER_SILENT} for 1.5 s` }]);
    await nodeBus.nc.flush();
    expect(await subsOf('node-n1')).toEqual(expect.not.arrayContaining([expect.stringMatching(/portforward\.[0-9a-f]{32}\.up$/)]));
  });

  it('closes the CLI side within seconds when the node agent dies', async () => {
    const nodeB = await connect('node-n2');
    const pf2 = servePortForward(nodeB, { nodeName: 'n2', pods: new Map([['default/web', { ...pod('web'), spec: { ...pod('web').spec, nodeName: 'n2' } }]]), podIP: async () => '127.0.0.1', pingMs: 200, deadAfterMs: 1_500 });
    await pf2.ready;
    const { near, far } = await socketPair();
    const relay = await forwardConnection(cliBus, 'n2', { namespace: 'default', pod: 'web', port: echoPort }, near, { pingMs: 200, deadAfterMs: 1_500 });
    far.on('error', () => undefined);
    const farClosed = new Promise((r) => { far.on('end', r); far.on('close', r); });
    far.resume();
    await nodeB.nc.close();
    await expect(relay.done).resolves.toMatch(/no word from the other end/);
    await farClosed;
    await cliBus.nc.flush();
    expect((await subsOf('cli')).filter((s) => s.includes('.n2.'))).toEqual([]);
  });

  it('refuses what a node must not serve: another address, a pod not bound here, a bad port', async () => {
    const ask = (req: object) => caught(request(cliBus, portForwardSubject('n1'), req));
    const other = await ask({ namespace: 'default', pod: 'web', port: echoPort, host: '10.0.0.1' });
    expect(isValidation(other)).toBe(true);
    expect(String(other)).toMatch(/unknown field\(s\).*host/);
    expect(isNotFound(await ask({ namespace: 'default', pod: 'elsewhere', port: 80 }))).toBe(true);
    for (const port of [0, 70000, '80', 1.5]) expect(isValidation(await ask({ namespace: 'default', pod: 'web', port }))).toBe(true);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const unused = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await ask({ namespace: 'default', pod: 'web', port: unused });
    expect(refused).toBeInstanceOf(UnavailableError);
    expect(String(refused)).toMatch(/ECONNREFUSED/);
    expect(pf.streams()).toEqual([]);
  });

  const echoConnections = (): Promise<number> => new Promise((resolve, reject) => echo.getConnections((e, n) => (e ? reject(e) : resolve(n))));

  /** A podIP that answers only when the test says so, and counts its callers. */
  function heldPodIP(): { podIP: () => Promise<string>; waiting: () => number; release: () => void } {
    const waiters: (() => void)[] = [];
    let released = false;
    return {
      podIP: () => (released ? Promise.resolve('127.0.0.1') : new Promise<string>((r) => waiters.push(() => r('127.0.0.1')))),
      waiting: () => waiters.length,
      release: () => { released = true; for (const w of waiters.splice(0)) w(); },
    };
  }

  it('keeps the cap when opens race: concurrent requests beyond maxStreams are refused', async () => {
    const nodeD = await connect('node-n4');
    const held = heldPodIP();
    const pf4 = servePortForward(nodeD, { nodeName: 'n4', pods, podIP: held.podIP, maxStreams: 2 });
    await pf4.ready;
    try {
      const req = { namespace: 'default', pod: 'web', port: echoPort };
      const pairs = await Promise.all([0, 1, 2].map(() => socketPair()));
      const results = pairs.map(({ near }) => forwardConnection(cliBus, 'n4', req, near).then((r) => r, (e: unknown) => e));
      // Two requests hold a slot while the pod's IP is looked up; the third is refused meanwhile.
      await until('two opens in flight', () => (held.waiting() === 2 ? true : undefined), 5_000);
      const refused = (await Promise.race([results[0], results[1], results[2]]));
      expect(String(refused)).toMatch(/already relays 2 port-forward streams/);
      held.release();
      const all = await Promise.all(results);
      const relays = all.filter((r): r is RelayStream => r instanceof RelayStream);
      expect(relays).toHaveLength(2);
      for (const r of relays) r.close();
      await until('the node\'s streams gone', () => (pf4.streams().length === 0 ? true : undefined), 5_000);
    } finally {
      await pf4.stop();
    }
  });

  it('relays nothing for an open still in flight when it stops, and waits for it', async () => {
    const nodeE = await connect('node-n5');
    const held = heldPodIP();
    const pf5 = servePortForward(nodeE, { nodeName: 'n5', pods, podIP: held.podIP });
    await pf5.ready;
    const before = await echoConnections();
    const answer = request(cliBus, portForwardSubject('n5'), { namespace: 'default', pod: 'web', port: echoPort }, { timeoutMs: 3_000 }).then((r) => r, (e: unknown) => e);
    await until('the open in flight', () => (held.waiting() === 1 ? true : undefined), 5_000);
    let stopDone = false;
    const stopping = pf5.stop().then(() => { stopDone = true; });
    await new Promise((r) => setImmediate(r));
    expect(stopDone).toBe(false);
    held.release();
    await stopping;
    expect(pf5.streams()).toEqual([]);
    await until('no connection to the pod left', async () => ((await echoConnections()) === before ? true : undefined), 5_000);
    expect(await subsOf('node-n5')).toEqual([]);
    // No stream was opened for it: the caller hears an error (or nothing), never a stream id.
    expect(await answer).toBeInstanceOf(Error);
  });

  it('survives a local client resetting while the stream opens: the call fails, the node frees it', async () => {
    const nodeF = await connect('node-n6');
    const held = heldPodIP();
    const pf6 = servePortForward(nodeF, { nodeName: 'n6', pods, podIP: held.podIP });
    await pf6.ready;
    try {
      const { near, far } = await socketPair();
      const result = forwardConnection(cliBus, 'n6', { namespace: 'default', pod: 'web', port: echoPort }, near).then((r) => r, (e: unknown) => e);
      await until('the open in flight', () => (held.waiting() === 1 ? true : undefined), 5_000);
      const reset = new Promise((r) => near.once('close', r));
      far.resetAndDestroy();
      await reset;
      held.release();
      const err = await result;
      expect(err).toBeInstanceOf(Error);
      expect(String(err)).toMatch(/local connection failed while the stream opened/);
      await until('the node\'s stream gone', () => (pf6.streams().length === 0 ? true : undefined), 5_000);
    } finally {
      await pf6.stop();
    }
  });

  it('relays at most maxStreams at once', async () => {
    const nodeC = await connect('node-n3');
    const pf3 = servePortForward(nodeC, { nodeName: 'n3', pods: new Map([['default/web', pod('web')]]), podIP: async () => '127.0.0.1', maxStreams: 2 });
    await pf3.ready;
    try {
      const req = { namespace: 'default', pod: 'web', port: echoPort };
      const open = await Promise.all([0, 1].map(async () => {
        const { near } = await socketPair();
        return forwardConnection(cliBus, 'n3', req, near);
      }));
      const third = await caught(request(cliBus, portForwardSubject('n3'), req));
      expect(third).toBeInstanceOf(UnavailableError);
      expect(String(third)).toMatch(/already relays 2 port-forward streams/);
      for (const r of open) r.close();
      await until('the node\'s streams gone', () => (pf3.streams().length === 0 ? true : undefined), 5_000);
    } finally {
      await pf3.stop();
    }
  });
});
