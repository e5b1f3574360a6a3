/**
 * Where an embedded cluster's function gateway listens: the port `mk up --gateway-port` gave, kept
 * in the data directory (gateway.json) so a resumed cluster keeps its URL; DEFAULT_GATEWAY_PORT
 * (8081) when never given.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_GATEWAY_PORT } from '../../messages';
import { writeSecretFile } from '../context';
import type { ClusterPaths } from '../paths';

/** The file that keeps the gateway's port. */
export const GATEWAY_FILE = 'gateway.json';

/** The kept port, or undefined when none is kept. */
export function readGatewayPort(paths: ClusterPaths): number | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(paths.dataDir, GATEWAY_FILE), 'utf8')) as { port?: unknown };
    return typeof v.port === 'number' && Number.isInteger(v.port) && v.port > 0 && v.port < 65536 ? v.port : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps `given` when there is one, else the kept port, else the default; returns the port in use. */
export function ensureGatewayPort(paths: ClusterPaths, given?: number): number {
  const port = given ?? readGatewayPort(paths) ?? DEFAULT_GATEWAY_PORT;
  if (readGatewayPort(paths) !== port) writeSecretFile(path.join(paths.dataDir, GATEWAY_FILE), `${JSON.stringify({ port }, null, 2)}\n`);
  return port;
}

/** The URL functions are called on (`http://127.0.0.1:<port>`), when a port is kept. */
export function gatewayUrl(paths: ClusterPaths): string | undefined {
  const port = readGatewayPort(paths);
  return port ? `http://127.0.0.1:${port}` : undefined;
}
