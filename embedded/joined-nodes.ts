/**
 * The nodes that joined the embedded cluster from other machines (embedded/join.ts): node name ->
 * the public nkey it authenticates with. Kept in `<data-dir>/joined-nodes.json` (0600); the
 * nats-server config gives each one the permissions of a node (nodePermissions). Only public keys
 * are stored: a node's private seed never leaves its machine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeSecretFile } from './context';
import { ClusterError } from './errors';

const JoinedNodeSchema = z.strictObject({
  nkey: z.string().regex(/^U[A-Z2-7]{55}$/).describe('The node\'s public user nkey (U...), its NATS identity.'),
  joined: z.string().describe('When the node joined (RFC 3339).'),
  token: z.string().describe('The id of the join token it presented.'),
});
/** One joined node. */
export type JoinedNode = z.infer<typeof JoinedNodeSchema>;

const JoinedNodesFileSchema = z.strictObject({
  nodes: z.record(z.string(), JoinedNodeSchema).describe('Joined nodes by name.'),
});

/** The file in a data directory. */
export function joinedNodesFile(dataDir: string): string {
  return path.join(dataDir, 'joined-nodes.json');
}

/** The joined nodes by name (none without a file). Throws ClusterError for a malformed file. */
export function readJoinedNodes(dataDir: string): Record<string, JoinedNode> {
  const file = joinedNodesFile(dataDir);
  if (!fs.existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ClusterError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = JoinedNodesFileSchema.safeParse(raw);
  if (!parsed.success) throw new ClusterError(`${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.nodes;
}

/** Writes the joined nodes (atomically, 0600). */
export function writeJoinedNodes(dataDir: string, nodes: Record<string, JoinedNode>): void {
  writeSecretFile(joinedNodesFile(dataDir), JSON.stringify({ nodes }, null, 2) + '\n');
}
