/**
 * A real nats-server with the credentials, TLS and subject permissions `mk up` writes
 * (embedded/credentials.ts), in a data directory of its own, for tests of what each identity may
 * do. Node n1 is the cluster's own; `extraNodes` get identities too, as a multi-node cluster's
 * config has one per node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, type Bus } from '../../bus';
import { natsConfig, prepareClusterFiles, randomPassword, type Credentials } from '../../embedded/credentials';
import { clusterPaths } from '../../embedded/paths';
import { findNatsServer, waitForPort } from '../../embedded/supervise';
import { tlsPaths } from '../../embedded/tls';
import { freePort, terminate } from './nats-server';

/** A running secured server and its data directory. */
export interface SecuredNats {
  /** The data directory (`MK_HOME` for a control plane started on it). */
  dir: string;
  creds: Credentials;
  caFile: string;
  /**
   * Connects as `user` (its own password unless `pass`). The CLI and the gateway do not ask for
   * JetStream at connect (they may not use it); the others do.
   */
  connectAs(user: string, pass?: string): Promise<Bus>;
  /** SIGKILLs the server (its JetStream store stays in `dir`) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same config, port and store; resolves once it listens. */
  restart(): Promise<void>;
  /** Closes every connection made, stops the server and removes the directory. */
  stop(): Promise<void>;
}

/** Starts the server on a free loopback port; `prefix` names the temp directory. */
export async function startSecuredNats(prefix: string, opts: { extraNodes?: string[] } = {}): Promise<SecuredNats> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const paths = clusterPaths(dir);
  const creds = prepareClusterFiles(paths, { nodeName: 'n1', port: await freePort() });
  for (const n of opts.extraNodes ?? []) creds.users[`node-${n}`] = randomPassword();
  fs.writeFileSync(paths.natsConf, natsConfig(paths, creds));
  const caFile = tlsPaths(dir).caCert;
  const buses: Bus[] = [];
  let server: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    server = spawn(findNatsServer()!, ['-c', paths.natsConf], { stdio: 'ignore' });
    await waitForPort(creds.port, 15_000);
  };
  try {
    await start();
  } catch (err) {
    if (server) await terminate(server);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir, creds, caFile,
    async connectAs(user, pass = creds.users[user]) {
      const bus = await connectBus({
        servers: `nats://127.0.0.1:${creds.port}`, user, pass, name: `test-${user}`, timeoutMs: 3000,
        checkJetStream: user !== 'admin' && user !== 'gateway', caFile,
      });
      buses.push(bus);
      return bus;
    },
    async kill() {
      const child = server;
      server = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
    restart: start,
    async stop() {
      await Promise.all(buses.splice(0).map((b) => b.close()));
      if (server) await terminate(server);
      server = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
