/**
 * Joining a machine to the embedded cluster, the serving half (the joining half:
 * embedded/join-client.ts). The control plane of a `mk up` cluster serves mk.join: a request
 * carries a join token (embedded/tokens.ts), the node name and the public nkey the node will
 * authenticate with. A good token adds that nkey to joined-nodes.json with a node's permissions
 * (nodePermissions: only for itself), rewrites nats.conf and asks nats-server to reload it
 * (SIGHUP), so no running connection is dropped. A wrong or expired token, a bad name or key, or
 * a name already taken is refused and nothing is written.
 */
import * as fs from 'node:fs';
import { nkeys } from '@nats-io/transport-node';
import { serve, type Bus, type Served } from '../bus';
import {
  AlreadyExistsError, dns1123LabelError, ForbiddenError, JOIN_SUBJECT, UnavailableError, ValidationError,
  type JoinRequest, type JoinResult,
} from '../messages';
import { writeSecretFile } from './context';
import { ClusterError } from './errors';
import { natsConfig, nodeUser, readCredentials } from './credentials';
import { readJoinedNodes, writeJoinedNodes } from './joined-nodes';
import { clusterPaths, type ClusterPaths } from './paths';
import { livePid, signal } from './processes';
import { natsChild } from './topology';
import { caCertHash, tlsPaths } from './tls';
import { createToken, DEFAULT_TOKEN_TTL_MS, listTokens, TokenError, verifyToken } from './tokens';

/** What the join service needs. */
export interface JoinServiceOptions {
  dataDir: string;
  /** Makes nats-server read its config again; default: SIGHUP to the cluster's nats-server (run/nats.pid). */
  reload?: (paths: ClusterPaths) => void;
  log?: (line: string) => void;
}

/** The queue group of the join service, so one control plane answers each request. */
const JOIN_QUEUE = 'mk-join';

/**
 * SIGHUP to every nats-server `mk up` runs for this data dir (the three of `--nats-servers 3` all
 * include nats.conf; one that is down reads it when it starts again). Throws UnavailableError
 * when none is running.
 */
export function reloadNatsServer(paths: ClusterPaths): void {
  const files = [0, 1, 2].map((i) => paths.pid(natsChild(i)));
  const signalled = files.map((f) => livePid(f, paths.dataDir)).filter((pid) => pid !== undefined && signal(pid, 'SIGHUP'));
  if (signalled.length === 0) {
    throw new UnavailableError(`the cluster's nats-server is not running (no live pid in ${files[0]}): cannot add the node`);
  }
}

/** True for a well-formed public user nkey (prefix U, valid checksum). */
function isUserPublicKey(key: string): boolean {
  if (!/^U[A-Z2-7]{55}$/.test(key)) return false;
  try {
    nkeys.fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a join request and returns the node's name; throws ValidationError for a malformed one,
 * ForbiddenError for a wrong or expired token, AlreadyExistsError for a name another identity has.
 * Returns `existing: true` when this very key already joined under this name (a retry).
 */
export function checkJoin(dataDir: string, req: JoinRequest, now: number = Date.now()): { existing: boolean; tokenId: string } {
  if (typeof req !== 'object' || req === null) throw new ValidationError('a join request needs token, nodeName and publicKey');
  const { token, nodeName, publicKey } = req;
  if (typeof token !== 'string' || typeof nodeName !== 'string' || typeof publicKey !== 'string') {
    throw new ValidationError('a join request needs token, nodeName and publicKey as strings');
  }
  const bad = dns1123LabelError(nodeName);
  if (bad) throw new ValidationError(`invalid node name "${nodeName}": ${bad}`);
  if (!isUserPublicKey(publicKey)) {
    throw new ValidationError('publicKey must be a public user nkey (U...)');
  }
  let tokenId: string;
  try {
    tokenId = verifyToken(dataDir, token, now).id;
  } catch (err) {
    if (err instanceof TokenError) throw new ForbiddenError(`join refused: ${err.message}`);
    throw err;
  }
  const creds = readCredentials(clusterPaths(dataDir));
  const joined = readJoinedNodes(dataDir)[nodeName];
  if (creds?.users[nodeUser(nodeName)] !== undefined || (joined && joined.nkey !== publicKey)) {
    throw new AlreadyExistsError(`join refused: node "${nodeName}" already has credentials in this cluster; pick another --node-name`);
  }
  return { existing: joined !== undefined, tokenId };
}

/**
 * Serves mk.join for the cluster in `opts.dataDir` (requests are handled one at a time, so two
 * joins never lose each other's write). Resolves `ready` once subscribed.
 */
export function serveJoin(bus: Bus, opts: JoinServiceOptions): Served {
  const paths = clusterPaths(opts.dataDir);
  const reload = opts.reload ?? reloadNatsServer;
  let last: Promise<unknown> = Promise.resolve();
  const handle = async (req: JoinRequest): Promise<JoinResult> => {
    const { existing, tokenId } = checkJoin(opts.dataDir, req);
    if (!existing) {
      const creds = readCredentials(paths);
      if (!creds) throw new UnavailableError(`${paths.credentials} is missing: this control plane does not run a mk up cluster`);
      const nodes = readJoinedNodes(opts.dataDir);
      const before = JSON.stringify({ nodes });
      nodes[req.nodeName] = { nkey: req.publicKey, joined: new Date().toISOString(), token: tokenId };
      writeJoinedNodes(opts.dataDir, nodes);
      try {
        writeSecretFile(paths.natsConf, natsConfig(paths, creds));
        reload(paths);
      } catch (err) {
        // Undo, so a refused join leaves nothing behind.
        writeJoinedNodes(opts.dataDir, (JSON.parse(before) as { nodes: typeof nodes }).nodes);
        writeSecretFile(paths.natsConf, natsConfig(paths, creds));
        throw err;
      }
      opts.log?.(`node ${req.nodeName} joined with token ${tokenId}`);
    }
    return { nodeName: req.nodeName };
  };
  return serve<JoinRequest, JoinResult>(bus, JOIN_SUBJECT, (req) => {
    const next = last.then(() => handle(req));
    last = next.catch(() => undefined);
    return next;
  }, { queue: JOIN_QUEUE });
}

/**
 * The command another machine runs to join this cluster, given a token: its bus address (the
 * advertise address, else loopback) and the CA pin. Throws ClusterError when `dataDir` holds no
 * `mk up` cluster.
 */
export function joinCommand(dataDir: string): (token: string) => string {
  const paths = clusterPaths(dataDir);
  const creds = readCredentials(paths);
  const ca = tlsPaths(dataDir).caCert;
  if (!creds || !fs.existsSync(ca)) throw new ClusterError(`no mk up cluster in ${dataDir} (run mk up first, or pass --data-dir)`);
  const host = creds.advertiseAddress ?? '127.0.0.1';
  const url = `nats://${host.includes(':') ? `[${host}]` : host}:${creds.port}`;
  const hash = caCertHash(fs.readFileSync(ca));
  return (token) => `mk node-agent --join ${url} --token ${token} --ca-cert-hash ${hash}`;
}

/** Fails with a ClusterError unless `dataDir` holds a `mk up` cluster (token commands work on its files). */
export function requireClusterDir(dataDir: string): void {
  if (!readCredentials(clusterPaths(dataDir))) {
    throw new ClusterError(`no mk up cluster in ${dataDir}: tokens are kept by the machine that ran mk up (pass its --data-dir)`);
  }
}

/**
 * How other machines join, as kubeadm init prints it: when the cluster has no live token, a
 * 24-hour one is made and the whole command returned; otherwise, how to make one; and for a bus
 * on loopback only, how to open it (no token is made then). Lines to print.
 */
export function joinHint(dataDir: string): string[] {
  // A bus on loopback only cannot be reached from another machine: a join command would not work.
  if (!readCredentials(clusterPaths(dataDir))?.advertiseAddress) {
    return ['Other machines cannot reach this bus (it listens on loopback): to let them join, `mk down`, then `mk up --advertise-address <IPv4 of this machine>`'];
  }
  if (listTokens(dataDir).length > 0) return ['To join another machine: mk token create --print-join-command'];
  const command = joinCommand(dataDir);
  const { token } = createToken(dataDir, { ttlMs: DEFAULT_TOKEN_TTL_MS, description: 'made by mk up' });
  return ['To join another machine as a node (this token works for 24h; mk token create makes more):', `  ${command(token)}`];
}
