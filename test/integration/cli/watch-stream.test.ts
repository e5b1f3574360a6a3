/**
 * The CLI's half of mk.api.watch (cli/watch-stream.ts) against a real nats-server and a scripted
 * api: a stream whose messages skip a number (one was lost while a connection was down) is asked
 * for again from the last revision received (with the epoch the reply gave), so nothing is
 * missed and nothing is repeated; an Expired stream relists and starts afresh.
 */
import { connectBus, encode, serve, type Bus, type Served } from '../../../bus';
import { connectCore, type CoreBus } from '../../../bus/core-client';
import { API, resolveKind, type KubeObject, type WatchEvent, type WatchRequest, type WatchStreamMessage } from '../../../messages';
import { streamWatch } from '../../../cli/watch-stream';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(30_000);

describe('streamWatch', () => {
  let server: NatsServer;
  let apiBus: Bus;
  let client: CoreBus;
  let served: Served;
  const asked: WatchRequest[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    apiBus = await connectBus({ servers: server.url, name: 'scripted-api' });
    client = await connectCore({ servers: server.url, name: 'watch-stream-client' });
    served = serve(apiBus, API.watch, async (req: WatchRequest) => {
      asked.push(req);
      return { resourceVersion: req.resourceVersion ?? '0', epoch: `e${asked.length}` };
    });
    await served.ready;
  });
  afterAll(async () => {
    await served?.stop();
    await client?.close();
    await apiBus?.close();
    await server?.stop();
  });

  it('asks again from the last revision it received when a message of the stream is missing', async () => {
    const got: WatchEvent[] = [];
    const ev = (name: string, revision: number): WatchStreamMessage =>
      ({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'Event', metadata: { name } } as KubeObject, revision });
    const handle = await streamWatch(client, undefined, { kind: resolveKind('events')!, resourceVersion: '10' }, {
      onEvent: (e) => { got.push(e); },
      relist: async () => { throw new Error('no relist expected'); },
    });
    try {
      expect(asked).toHaveLength(1);
      const first = asked[0];
      expect(first).toMatchObject({ kind: 'events', resourceVersion: '10' });
      apiBus.nc.publish(first.subject, encode({ ...ev('a', 11), n: 1 }));
      // n: 2 (revision 12) was lost on the way; 3 comes.
      apiBus.nc.publish(first.subject, encode({ ...ev('c', 13), n: 3 }));
      await waitFor(() => asked.length === 2, 'the watch asked again');
      // With the epoch of the stream it had: a stream made again since would answer Expired.
      expect(asked[1]).toMatchObject({ kind: 'events', resourceVersion: '11', epoch: 'e1' });
      expect(asked[1].subject).not.toBe(first.subject);
      apiBus.nc.publish(asked[1].subject, encode({ ...ev('b', 12), n: 1 }));
      apiBus.nc.publish(asked[1].subject, encode({ ...ev('c', 13), n: 2 }));
      // The old stream's messages are not taken any more.
      apiBus.nc.publish(first.subject, encode({ ...ev('x', 14), n: 4 }));
      await waitFor(() => got.length === 3, 'the events');
      await apiBus.nc.flush();
      expect(got.map((e) => `${e.object.metadata.name} ${e.revision}`)).toEqual(['a 11', 'b 12', 'c 13']);
    } finally {
      await handle.stop();
    }
  });

  it('relists on Expired and asks from the listing\'s revision without the old epoch', async () => {
    asked.length = 0;
    let relists = 0;
    const handle = await streamWatch(client, undefined, { kind: resolveKind('events')!, resourceVersion: '5' }, {
      onEvent: () => undefined,
      relist: async () => { relists++; return '40'; },
    });
    try {
      apiBus.nc.publish(asked[0].subject, encode({ type: 'ERROR', error: { code: 'Expired', message: 'too old resource version: 5 (9)' }, n: 1 }));
      await waitFor(() => asked.length === 2, 'the watch after the relist');
      expect(relists).toBe(1);
      expect(asked[1].resourceVersion).toBe('40');
      expect(asked[1].epoch).toBeUndefined();
    } finally {
      await handle.stop();
    }
  });
});
