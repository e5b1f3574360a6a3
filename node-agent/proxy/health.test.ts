import * as http from 'node:http';
import * as net from 'node:net';
import { HealthCheckServers } from './health';

const freePort = (): Promise<number> => new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => resolve(p));
  });
});

const get = (port: number): Promise<{ status: number; body: unknown } | { error: string }> => new Promise((resolve) => {
  http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
    let b = '';
    res.on('data', (d: Buffer) => { b += d.toString(); });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(b) }));
  }).on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
});

it('answers 200 while a Local service has local endpoints, 503 without, and closes with it', async () => {
  const warn = jest.fn();
  const servers = new HealthCheckServers({ warn }, '127.0.0.1');
  const port = await freePort();
  try {
    await servers.sync([{ namespace: 'default', name: 'web', port, localEndpoints: 2 }]);
    expect(await get(port)).toEqual({ status: 200, body: { service: { namespace: 'default', name: 'web' }, localEndpoints: 2 } });
    await servers.sync([{ namespace: 'default', name: 'web', port, localEndpoints: 0 }]);
    expect(await get(port)).toEqual({ status: 503, body: { service: { namespace: 'default', name: 'web' }, localEndpoints: 0 } });
    await servers.sync([]);
    expect(await get(port)).toEqual({ error: 'ECONNREFUSED' });
    // A port taken by someone else is logged, not thrown.
    const taken = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    await servers.sync([{ namespace: 'default', name: 'web', port, localEndpoints: 1 }]);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ port, service: 'default/web' }), 'health check node port not served');
    await new Promise((r) => taken.close(r));
  } finally {
    await servers.close();
  }
});

it('does not wait for a keep-alive client when it closes a health check port', async () => {
  const servers = new HealthCheckServers({ warn: jest.fn() }, '127.0.0.1');
  const port = await freePort();
  const client = new net.Socket();
  try {
    await servers.sync([{ namespace: 'default', name: 'web', port, localEndpoints: 1 }]);
    // An idle client connection that never sends: server.close() alone would wait for it.
    await new Promise<void>((r) => client.connect(port, '127.0.0.1', () => r()));
    const closedByServer = new Promise<void>((r) => client.once('close', () => r()));
    const outcome = await Promise.race([
      servers.sync([]).then(() => 'synced'),
      new Promise((r) => setTimeout(() => r('blocked'), 2_000).unref()),
    ]);
    expect(outcome).toBe('synced');
    await closedByServer;
  } finally {
    client.destroy();
    await servers.close();
  }
});
