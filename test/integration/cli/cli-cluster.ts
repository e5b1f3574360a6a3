/**
 * The cluster the CLI integration tests talk to: a real nats-server, a control plane in this
 * process, a bus connection and the objects store for the test's own reads and writes, and an
 * MK_HOME holding a context file that points `mk` at that server. Built dist/ first (ensureBuilt).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { ensureBuilt } from './run-cli';

/** What startCliCluster made. */
export interface CliCluster {
  server: NatsServer;
  cp: ControlPlane;
  bus: Bus;
  store: ObjectStore;
  /** MK_HOME for `mk`: its config.json names the server and node n1. */
  dir: string;
}

/** Starts it; `tag` names the control plane, the connection and the temp dir. */
export async function startCliCluster(tag: string): Promise<CliCluster> {
  ensureBuilt();
  const server = await startNatsServer();
  const cp = await runControlPlane({ bus: { servers: server.url, name: `cp-cli-${tag}` } });
  const bus = await connectBus({ servers: server.url, name: `cli-${tag}-test` });
  const store = await ObjectStore.open(bus, { create: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mk-cli-${tag}-`));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ servers: [server.url], nodeName: 'n1' }), { mode: 0o600 });
  return { server, cp, bus, store, dir };
}

/** Stops what is given (the test may have replaced its control plane) and removes the dir. */
export async function stopCliCluster(c: Partial<CliCluster>): Promise<void> {
  await c.cp?.stop();
  await c.bus?.close();
  await c.server?.stop();
  if (c.dir) fs.rmSync(c.dir, { recursive: true, force: true });
}
