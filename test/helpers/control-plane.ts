/**
 * The setup most control-plane integration tests share: a nats-server on a random port, an
 * in-process control plane on it, and a client connection with the object store.
 */
import { connectBus, ObjectStore, request, type Bus } from '../../bus';
import { runControlPlane, type ControlPlane } from '../../actors';
import { API } from '../../messages';
import { startNatsServer, type NatsServer } from './nats-server';

/** A running server, control plane and client; `cp` may be replaced by a test that restarts it. */
export interface ControlPlaneFixture {
  server: NatsServer;
  cp: ControlPlane;
  bus: Bus;
  store: ObjectStore;
  /** A request to the subject API, by verb. */
  api<T>(verb: keyof typeof API, body: unknown): Promise<T>;
  /** Stops the control plane, the client and the server (in that order). */
  stop(): Promise<void>;
}

/** Starts the three; `name` names the control plane's and the client's connections. */
export async function startControlPlane(name: string): Promise<ControlPlaneFixture> {
  const server = await startNatsServer();
  const cp = await runControlPlane({ bus: { servers: server.url, name } });
  const bus = await connectBus({ servers: server.url, name: `${name}-client` });
  const store = await ObjectStore.open(bus);
  const f: ControlPlaneFixture = {
    server, cp, bus, store,
    api: <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb] as string, body),
    async stop() {
      await f.cp.stop();
      await bus.close();
      await server.stop();
    },
  };
  return f;
}

/**
 * What the store holds under `filter`, as `key@revision` lines, but leases: for "stored nothing"
 * checks. Not the listing's own revision: that is the bucket's, and a lease's holder renews it
 * (the control plane's every 2 s), so it moves while a slow test runs though the API stored nothing.
 */
export async function storedObjects(store: ObjectStore, filter = '>'): Promise<string[]> {
  return (await store.list(filter)).items
    .filter((i) => !i.key.startsWith('leases.'))
    .map((i) => `${i.key}@${i.revision}`);
}
