/**
 * The embedded cluster's secrets and the nats-server config made from them. Generated on the
 * first `mk up` (random passwords), reused afterwards; the config is rewritten on every start so a
 * new port or node name takes effect. Roles and what each may do: embedded/permissions.ts.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { z } from 'zod';
import { dns1123LabelError, POD_NETWORK_MODES, type PodNetworkMode } from '../messages';
import { encryptionKeysFile, ensureEncryptionKeys } from './encryption-keys';
import { ClusterError } from './errors';
import { writeContext, writeSecretFile } from './context';
import type { ClusterPaths } from './paths';
import {
  adminPermissions, JOIN_PASSWORD, JOIN_USER, joinPermissions, nodePermissions, renderPermissions, type Permissions,
} from './permissions';
import { dashboardPermissions, gatewayPermissions } from './permissions';
import { readJoinedNodes } from './joined-nodes';
import { busHost, clusterNodeNames, clusterNodes } from './node-network';
import { ensureClusterTls, tlsPaths } from './tls';

/** The default client port (NATS's). */
export const DEFAULT_PORT = 4222;

const CredentialsSchema = z.strictObject({
  port: z.number().int().min(1).max(65535),
  nodeName: z.string().min(1),
  users: z.record(z.string(), z.string().min(16)),
  advertiseAddress: z.string().optional()
    .describe('The IP other machines reach the bus on (mk up --advertise-address); absent: loopback only.'),
  nodes: z.number().int().min(1).optional()
    .describe('mk up --nodes N: how many nodes, each in a network namespace of its own (absent: one, in the host\'s).'),
  nodeSubnet: z.string().optional()
    .describe('The nodes\' subnet when nodes > 1 (mk up --node-subnet); the bus listens on its first address.'),
  podNetwork: z.enum(POD_NETWORK_MODES).optional()
    .describe('The pod network\'s backend on every node (mk up --pod-network): host-gw (absent) or vxlan.'),
  clusterDomain: z.string().optional()
    .describe('The cluster DNS domain every node serves (mk up --cluster-domain); absent: cluster.local.'),
  dnsUpstreams: z.array(z.string()).optional()
    .describe('Resolvers for names outside the cluster (mk up --dns-upstream), or ["none"]; absent: resolv.conf.'),
});
/** credentials.json: the port, the node name(s), the topology and every role's password. */
export type Credentials = z.infer<typeof CredentialsSchema>;

/** The CLI's NATS user. */
export const ADMIN_USER = 'admin';
/** The control plane's NATS user. */
export const CONTROL_PLANE_USER = 'control-plane';
/** The dashboard's read-only NATS user, and its user for write sessions. */
export const DASHBOARD_USER = 'dashboard';
export const DASHBOARD_WRITE_USER = 'dashboard-write';
/** The function gateway's identity (embedded/permissions.ts gatewayPermissions). */
export const GATEWAY_USER = 'gateway';
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
 * credentials.json, nats/nats.conf and config.json (and, for a new cluster, the Secrets'
 * encryption keys: embedded/encryption-keys.ts), and returns them. Passwords are never changed
 * once made, so running processes and the user's context stay valid.
 */
export function prepareClusterFiles(
  paths: ClusterPaths, opts: { port?: number; nodeName: string; advertiseAddress?: string; nodes?: number; nodeSubnet?: string; podNetwork?: PodNetworkMode }
    & KeptDnsSettings,
): Credentials {
  const existing = readCredentials(paths);
  const nodeName = existing?.nodeName ?? opts.nodeName;
  // The name becomes NATS subjects, permissions and keys: it must be a DNS-1123 label.
  const bad = dns1123LabelError(nodeName);
  if (bad) throw new ClusterError(`invalid node name "${nodeName}": ${bad}`);
  const advertiseAddress = opts.advertiseAddress ?? existing?.advertiseAddress;
  if (advertiseAddress !== undefined && !net.isIPv4(advertiseAddress)) {
    throw new ClusterError(`invalid --advertise-address "${advertiseAddress}": expected an IPv4 address of this machine`);
  }
  const topo = clusterNodes(paths, existing, opts);
  const podNetwork = clusterPodNetwork(paths, existing, opts.podNetwork);
  const creds: Credentials = {
    port: opts.port ?? existing?.port ?? DEFAULT_PORT,
    nodeName,
    users: { ...(existing?.users ?? {}) },
    ...(advertiseAddress ? { advertiseAddress } : {}),
    ...topo,
    ...(podNetwork !== 'host-gw' ? { podNetwork } : {}),
    ...keptDns(existing, opts),
  };
  for (const user of [ADMIN_USER, CONTROL_PLANE_USER, ...clusterNodeNames(creds).map(nodeUser)]) creds.users[user] ??= randomPassword();
  for (const user of [DASHBOARD_USER, DASHBOARD_WRITE_USER, GATEWAY_USER]) creds.users[user] ??= randomPassword();
  writeSecretFile(paths.credentials, JSON.stringify(creds, null, 2) + '\n');
  // A new cluster's Secrets are encrypted from the first write. An existing one without the file
  // gets it from its control plane, which first checks that the store holds nothing it needed.
  if (!existing) ensureEncryptionKeys(encryptionKeysFile(paths));
  // The certificate names every address a client dials: the advertise address, the nodes' bridge.
  const bridge = busHost(creds);
  const tls = ensureClusterTls(paths.dataDir, [
    ...(advertiseAddress ? [advertiseAddress] : []), ...(bridge !== '127.0.0.1' ? [bridge] : []),
  ]);
  writeSecretFile(paths.natsConf, natsConfig(paths, creds));
  fs.mkdirSync(paths.natsStore, { recursive: true, mode: 0o700 });
  writeContext(paths.dataDir, {
    servers: [`nats://${busHost(creds)}:${creds.port}`], user: ADMIN_USER, pass: creds.users[ADMIN_USER], nodeName, caFile: tls.caCert,
  });
  return creds;
}

/** The cluster DNS settings of `mk up` that its nodes keep across restarts. */
export interface KeptDnsSettings {
  clusterDomain?: string;
  dnsUpstreams?: string[];
}

/** Each DNS setting as given this start, else as kept before (none: the node's default). */
function keptDns(existing: KeptDnsSettings | undefined, given: KeptDnsSettings): KeptDnsSettings {
  const clusterDomain = given.clusterDomain ?? existing?.clusterDomain;
  const dnsUpstreams = given.dnsUpstreams ?? existing?.dnsUpstreams;
  return { ...(clusterDomain !== undefined ? { clusterDomain } : {}), ...(dnsUpstreams !== undefined ? { dnsUpstreams } : {}) };
}

/** `mk node-agent`'s cluster DNS flags for the settings `creds` keeps. */
export function nodeDnsArgs(creds: KeptDnsSettings): string[] {
  return [
    ...(creds.clusterDomain !== undefined ? ['--cluster-domain', creds.clusterDomain] : []),
    ...(creds.dnsUpstreams ?? []).flatMap((u) => ['--dns-upstream', u]),
  ];
}

/**
 * The pod network of a cluster: as asked on its first start (default host-gw), as it was
 * afterwards. Throws ClusterError, before anything is written, when a later start asks for another.
 */
export function clusterPodNetwork(paths: ClusterPaths, existing: Pick<Credentials, 'podNetwork'> | undefined, asked?: PodNetworkMode): PodNetworkMode {
  const had = existing ? existing.podNetwork ?? 'host-gw' : undefined;
  if (had !== undefined && asked !== undefined && asked !== had) {
    throw new ClusterError(`the cluster in ${paths.dataDir} runs the ${had} pod network; it cannot be started with --pod-network ${asked} `
      + '(run `mk up` without --pod-network to resume it, or `mk down --purge` first to start a new one)');
  }
  return had ?? asked ?? 'host-gw';
}

/** The permissions of a user of the embedded cluster; undefined for the control plane (all). */
export function permissionsOf(user: string): Permissions | undefined {
  if (user === CONTROL_PLANE_USER) return undefined;
  if (user.startsWith('node-')) return nodePermissions(user.slice('node-'.length));
  if (user === DASHBOARD_USER || user === DASHBOARD_WRITE_USER) return dashboardPermissions(user, user === DASHBOARD_WRITE_USER);
  if (user === GATEWAY_USER) return gatewayPermissions(user);
  return adminPermissions(user);
}

/** 24 random bytes, base64url: safe inside a quoted NATS config string. */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The nats-server config: loopback only (for several nodes: the host's address on the nodes'
 * private bridge only; every address with an advertise address), TLS when the data dir has its
 * certificates, JetStream in the data dir, a user per role, the public join identity, and an nkey
 * user per joined node (joined-nodes.json).
 */
export function natsConfig(paths: ClusterPaths, creds: Credentials): string {
  const q = (s: string): string => JSON.stringify(s);
  const users = Object.entries(creds.users).map(([user, pass]) => {
    const perms = permissionsOf(user);
    return `    { user: ${q(user)}, password: ${q(pass)}${perms ? `, permissions: ${renderPermissions(perms)}` : ''} }`;
  });
  users.push(`    { user: ${q(JOIN_USER)}, password: ${q(JOIN_PASSWORD)}, permissions: ${renderPermissions(joinPermissions())} }`);
  for (const [name, node] of Object.entries(readJoinedNodes(paths.dataDir))) {
    users.push(`    { nkey: ${q(node.nkey)}, permissions: ${renderPermissions(nodePermissions(name))} }`);
  }
  const tls = tlsPaths(paths.dataDir);
  const tlsBlock = fs.existsSync(tls.serverChain) && fs.existsSync(tls.serverKey)
    ? ['tls {', `  cert_file: ${q(tls.serverChain)}`, `  key_file: ${q(tls.serverKey)}`, '  timeout: 5', '}']
    : [];
  return [
    '# Generated by `mk up` from credentials.json on every start; edits are overwritten.',
    'server_name: mk',
    `listen: ${q(`${creds.advertiseAddress ? '0.0.0.0' : busHost(creds)}:${creds.port}`)}`,
    ...(creds.advertiseAddress ? [`client_advertise: ${q(`${creds.advertiseAddress}:${creds.port}`)}`] : []),
    ...tlsBlock,
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
