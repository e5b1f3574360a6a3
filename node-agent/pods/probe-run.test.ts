import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Container } from '../../messages/pod';
import type { Probe } from '../../messages/probe';
import { runProbe } from './probe-run';
import type { PodRuntime } from './types';

const noExec: Pick<PodRuntime, 'execSync'> = { execSync: async () => { throw new Error('no exec here'); } };

describe('runProbe on loopback', () => {
  let server: http.Server;
  let port: number;
  const seen: { path?: string; headers: http.IncomingHttpHeaders }[] = [];
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ path: req.url, headers: req.headers });
      if (req.url === '/slow') return; // never answers
      const code = Number(req.url?.slice(1)) || 200;
      res.writeHead(code);
      res.end('body');
    });
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const container = (): Container => ({ name: 'c', image: 'i', ports: [{ name: 'web', containerPort: port }] });
  const run = (probe: Probe, podIP = '127.0.0.1') => runProbe(noExec, { probe, container: container(), containerId: 'id', podIP });

  it('passes on 200-399, fails on 400 and up, with headers and a named port', async () => {
    expect(await run({ httpGet: { port: 'web', path: '/204', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } })).toEqual({ outcome: 'success', message: '' });
    expect(seen.at(-1)).toMatchObject({ path: '/204', headers: { 'x-probe': 'yes' } });
    expect((await run({ httpGet: { port, path: '/302' } })).outcome).toBe('success');
    expect(await run({ httpGet: { port, path: '/500' } })).toEqual({ outcome: 'failure', message: 'HTTP probe failed with statuscode: 500' });
    expect((await run({ httpGet: { port } })).outcome).toBe('success');
    expect(seen.at(-1)?.path).toBe('/');
  });

  it('sends the probe\'s Host header in place of its own, and Connection: close', async () => {
    expect((await run({ httpGet: { port, path: '/200', httpHeaders: [{ name: 'Host', value: 'app.example' }] } })).outcome).toBe('success');
    expect(seen.at(-1)?.headers).toMatchObject({ host: 'app.example', connection: 'close', 'user-agent': 'mk-probe' });
  });

  it('reads a status line that comes a byte at a time, and fails what is not HTTP or ends without one', async () => {
    const raw = net.createServer((s) => {
      s.once('data', (d) => {
        const path = d.toString('latin1').split(' ')[1];
        if (path === '/drip') {
          const line = 'HTTP/1.1 200 OK\r\n\r\n';
          let i = 0;
          const t = setInterval(() => { if (i < line.length) s.write(line[i++]); else { clearInterval(t); s.end(); } }, 2);
        } else if (path === '/garbage') {
          s.end('SSH-2.0-OpenSSH\r\n');
        } else {
          s.end();
        }
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const rawPort = (raw.address() as AddressInfo).port;
    try {
      expect(await run({ httpGet: { port: rawPort, path: '/drip' } })).toEqual({ outcome: 'success', message: '' });
      expect(await run({ httpGet: { port: rawPort, path: '/garbage' } })).toMatchObject({ outcome: 'failure', message: expect.stringMatching(/malformed HTTP response/) });
      expect(await run({ httpGet: { port: rawPort, path: '/close' } })).toMatchObject({ outcome: 'failure', message: expect.stringMatching(/closed the connection without a status line/) });
    } finally {
      await new Promise((r) => raw.close(r));
    }
  });

  it('fails an HTTP probe that takes longer than timeoutSeconds', async () => {
    const connect = jest.spyOn(net, 'connect');
    try {
      const r = await run({ httpGet: { port, path: '/slow' }, timeoutSeconds: 1 });
      // The server never answers /slow: only the socket's timeout, set to the probe's, ends it.
      expect(connect).toHaveBeenCalledTimes(1);
      expect(connect).toHaveBeenCalledWith(expect.objectContaining({ port, timeout: 1000 }));
      expect(r).toEqual({ outcome: 'failure', message: `Get "http://127.0.0.1:${port}/slow": timed out after 1000 ms` });
    } finally {
      connect.mockRestore();
    }
  });

  it('passes a TCP probe on a listener and fails one on a closed port', async () => {
    expect(await run({ tcpSocket: { port: 'web' } })).toEqual({ outcome: 'success', message: '' });
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
    });
    const r = await run({ tcpSocket: { port: closed } });
    expect(r.outcome).toBe('failure');
    expect(r.message).toMatch(new RegExp(`^dial tcp 127.0.0.1:${closed}: .*ECONNREFUSED`));
  });

  it('fails without a pod IP, and says what an exec probe printed', async () => {
    expect(await runProbe(noExec, { probe: { tcpSocket: { port: 80 } }, container: container(), containerId: 'id' }))
      .toEqual({ outcome: 'failure', message: 'the pod has no IP yet' });
    const calls: unknown[] = [];
    const cri: Pick<PodRuntime, 'execSync'> = {
      execSync: async (req) => { calls.push(req); return { stdout: Buffer.from('nope\n'), stderr: Buffer.alloc(0), exitCode: 2 }; },
    };
    const r = await runProbe(cri, { probe: { exec: { command: ['check', '-q'] }, timeoutSeconds: 4 }, container: container(), containerId: 'cid' });
    expect(r).toEqual({ outcome: 'failure', message: 'command ["check","-q"] exited with 2: nope' });
    expect(calls).toEqual([{ containerId: 'cid', cmd: ['check', '-q'], timeout: 4 }]);
    expect(await runProbe(noExec, { probe: { exec: { command: ['x'] } }, container: container(), containerId: 'cid' }))
      .toEqual({ outcome: 'failure', message: 'no exec here' });
  });
});
