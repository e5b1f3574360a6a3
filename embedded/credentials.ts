/**
 * The embedded cluster's secrets and the nats-server config made from them. Generated on the
 * first `mk up` (random passwords), reused afterwards; the config is rewritten on every start so a
 * new port or node name takes effect. Roles and what each may do: embedded/permissions.ts.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { z } from 'zod';
import { dns1123LabelError } from '../messages';
import { ClusterError } from './errors';
import { writeContext, writeSecretFile } from './context';
import type { ClusterPaths } from './paths';
import { adminPermissions, nodePermissions, renderPermissions, type Permissions } from './permissions';
import { checkNodeCount, DEFAULT_NODE_SUBNET, hostAddressOf, nodeNames } from './topology';

/** The default client port (NATS's). */
export const DEFAULT_PORT = 4222;

const CredentialsSchema = z.strictObject({
  port: z.number().int().min(1).max(65535),
  nodeName: z.string().min(1),
  users: z.record(z.string(), z.string().min(16)),
  /** `mk up --nodes N`: how many nodes (absent: one, in the host's own namespace). */
  nodes: z.number().int().min(1).optional(),
  /** The nodes' subnet when nodes > 1. */
  nodeSubnet: z.string().optional(),
});
/** credentials.json: the port, the node name(s), the topology and every role's password. */
export type Credentials = z.infer<typeof CredentialsSchema>;

/** The CLI's NATS user. */
export const ADMIN_USER = 'admin';
/** The control plane's NATS user. */
export const CONTROL_PLANE_USER = 'control-plane';
/** The NATS user of a node agent. */
export function nodeUser(nodeName: string): string {
  return `node-${nodeName}`;
}

/** Reads credentials.json, or undefined when absent. Throws on a malformed file. */
export function readCredentials(paths: ClusterPaths): Credentials | undefined {
  if (!fs.existsSync(paths.credentials)) return undefined;
  const parsed = CredentialsSchema.safeParse(JSON.parse(fs.readFileSync(paths.credentials, 'utf8')));
  if (!parsed.success) throw new Error(`${paths.credentials} is invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/**
 * Loads the credentials (creating them on first use) with `port` and `nodeName` applied, writes
 * credentials.json, nats/nats.conf and config.json, and returns them. Passwords are never changed
 * once made, so running processes and the user's context stay valid.
 */
export function prepareClusterFiles(paths: ClusterPaths, opts: { port?: number; nodeName: string; nodes?: number; nodeSubnet?: string }): Credentials {
  const existing = readCredentials(paths);
  const nodeName = existing?.nodeName ?? opts.nodeName;
  // The name becomes NATS subjects, permissions and keys: it must be a DNS-1123 label.
  const bad = dns1123LabelError(nodeName);
  if (bad) throw new ClusterError(`invalid node name "${nodeName}": ${bad}`);
  const topo = clusterTopology(paths, existing, opts);
  const creds: Credentials = {
    port: opts.port ?? existing?.port ?? DEFAULT_PORT,
    nodeName,
    users: { ...(existing?.users ?? {}) },
    ...topo,
  };
  for (const user of [ADMIN_USER, CONTROL_PLANE_USER, ...clusterNodeNames(creds).map(nodeUser)]) creds.users[user] ??= randomPassword();
  writeSecretFile(paths.credentials, JSON.stringify(creds, null, 2) + '\n');
  writeSecretFile(paths.natsConf, natsConfig(paths, creds));
  fs.mkdirSync(paths.natsStore, { recursive: true, mode: 0o700 });
  writeContext(paths.dataDir, {
    servers: [`nats://${busHost(creds)}:${creds.port}`], user: ADMIN_USER, pass: creds.users[ADMIN_USER], nodeName,
  });
  return creds;
}

/**
 * The node count and subnet of a cluster: as asked on its first start, as it was afterwards.
 * Throws ClusterError, before anything is written, when a later start asks for another.
 */
function clusterTopology(paths: ClusterPaths, existing: Credentials | undefined, opts: { nodes?: number; nodeSubnet?: string }): Pick<Credentials, 'nodes' | 'nodeSubnet'> {
  if (opts.nodes !== undefined) checkNodeCount(opts.nodes);
  const had = existing ? existing.nodes ?? 1 : undefined;
  if (had !== undefined && opts.nodes !== undefined && opts.nodes !== had) {
    throw new ClusterError(`the cluster in ${paths.dataDir} has ${had} node${had === 1 ? '' : 's'}; it cannot be started with --nodes ${opts.nodes} `
      + `(run \`mk up\` without --nodes to resume it, or \`mk down --purge\` first to start a new one)`);
  }
  const nodes = had ?? opts.nodes ?? 1;
  if (nodes === 1) {
    if (opts.nodeSubnet !== undefined) throw new ClusterError('--node-subnet needs --nodes 2 or more (a single node runs in this machine\'s own network)');
    return {};
  }
  const subnet = existing?.nodeSubnet ?? opts.nodeSubnet ?? DEFAULT_NODE_SUBNET;
  if (existing && opts.nodeSubnet !== undefined && opts.nodeSubnet !== subnet) {
    throw new ClusterError(`the cluster in ${paths.dataDir} uses node subnet ${subnet}; --node-subnet cannot change it`);
  }
  hostAddressOf(subnet);
  return { nodes, nodeSubnet: subnet };
}

/** The names of the cluster's nodes: its node name, then `<name>-2`, `<name>-3`, ... */
export function clusterNodeNames(creds: Pick<Credentials, 'nodeName' | 'nodes'>): string[] {
  return nodeNames(creds.nodeName, creds.nodes ?? 1);
}

/** Where nats-server listens: loopback, or for several nodes the host's address on their bridge. */
export function busHost(creds: Pick<Credentials, 'nodes' | 'nodeSubnet'>): string {
  return (creds.nodes ?? 1) > 1 ? hostAddressOf(creds.nodeSubnet ?? DEFAULT_NODE_SUBNET) : '127.0.0.1';
}

/** The permissions of a user of the embedded cluster; undefined for the control plane (all). */
export function permissionsOf(user: string): Permissions | undefined {
  if (user === CONTROL_PLANE_USER) return undefined;
  if (user.startsWith('node-')) return nodePermissions(user.slice('node-'.length));
  return adminPermissions(user);
}

/** 24 random bytes, base64url: safe inside a quoted NATS config string. */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The nats-server config: loopback only (for several nodes: the host's address on the nodes'
 * private bridge only), JetStream in the data dir, a user per role.
 */
export function natsConfig(paths: ClusterPaths, creds: Credentials): string {
  const q = (s: string): string => JSON.stringify(s);
  const users = Object.entries(creds.users).map(([user, pass]) => {
    const perms = permissionsOf(user);
    return `    { user: ${q(user)}, password: ${q(pass)}${perms ? `, permissions: ${renderPermissions(perms)}` : ''} }`;
  });
  return [
    '# Generated by `mk up` from credentials.json on every start; edits are overwritten.',
    'server_name: mk',
    `listen: ${q(`${busHost(creds)}:${creds.port}`)}`,
    'max_payload: 8MB',
    'jetstream {',
    `  store_dir: ${q(paths.natsStore)}`,
    '}',
    'authorization {',
    '  users: [',
    ...users,
    '  ]',
    '}',
    '',
  ].join('\n');
}
