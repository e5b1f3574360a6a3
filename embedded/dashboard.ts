/**
 * The dashboard of an embedded cluster: its port is chosen on the first `mk up` and kept in the
 * data directory (dashboard.json), so a resumed cluster keeps its URL; control plane i serves on
 * that port + i. Every control plane serves (a standby reads the bus too), as the `dashboard`
 * and `dashboard-write` identities, and mints write tokens as itself.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Bus } from '../bus';
import { DASHBOARD_USER, DASHBOARD_WRITE_USER, type Credentials } from './credentials';
import type { ClusterPaths } from './paths';
import { writeSecretFile } from './context';

/** The file that keeps the dashboard's port. */
export const DASHBOARD_FILE = 'dashboard.json';

/** The port control plane 0 serves on, when `mk up` chose one. */
export function readDashboardPort(paths: ClusterPaths): number | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(paths.dataDir, DASHBOARD_FILE), 'utf8')) as { port?: unknown };
    return typeof v.port === 'number' && Number.isInteger(v.port) && v.port > 0 && v.port < 65536 ? v.port : undefined;
  } catch {
    return undefined;
  }
}

/** The kept port, or a free loopback port chosen now and kept. */
export async function ensureDashboardPort(paths: ClusterPaths): Promise<number> {
  const kept = readDashboardPort(paths);
  if (kept) return kept;
  const port = await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  writeSecretFile(path.join(paths.dataDir, DASHBOARD_FILE), `${JSON.stringify({ port }, null, 2)}\n`);
  return port;
}

/** The `mk control-plane` flags of control plane `index`: its dashboard port. */
export function dashboardArgs(paths: ClusterPaths, index: number): string[] {
  const port = readDashboardPort(paths);
  return port ? ['--dashboard-port', String(port + index)] : [];
}

/** The URL of the dashboard of control plane 0 (on loopback), when a port is kept. */
export function dashboardUrl(paths: ClusterPaths, address = '127.0.0.1'): string | undefined {
  const port = readDashboardPort(paths);
  return port ? `http://${address}:${port}/` : undefined;
}

/** Where and how a control plane serves its dashboard. */
export interface ControlPlaneDashboardOptions {
  port: number;
  address?: string;
  /** The control plane's own connection (mints and redeems tokens). */
  bus: Bus;
  /** The bus settings the dashboard's identities connect with (servers, TLS). */
  connect: { servers: string | string[]; caFile?: string; caPem?: string };
  creds: Credentials;
  server: string;
  log: (line: string) => void;
}

/**
 * Starts the dashboard of a control plane; resolves with its stop, or undefined (said in the log)
 * when the credentials have no dashboard identities. A port in use is logged, not fatal: the
 * control plane's work matters more than its dashboard.
 */
export async function startControlPlaneDashboard(o: ControlPlaneDashboardOptions): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const read = o.creds.users[DASHBOARD_USER];
  const write = o.creds.users[DASHBOARD_WRITE_USER];
  if (!read || !write) {
    o.log('no dashboard identities in credentials.json: the dashboard is off (run `mk up` once to make them)');
    return undefined;
  }
  const { serveDashboardTokens, startDashboardServer } = await import('../dashboard/server/index.js');
  const { tokens, served } = await serveDashboardTokens(o.bus);
  try {
    const d = await startDashboardServer({
      port: o.port, ...(o.address ? { address: o.address } : {}), server: o.server,
      read: { ...o.connect, user: DASHBOARD_USER, pass: read, name: 'mk-dashboard' },
      write: { ...o.connect, user: DASHBOARD_WRITE_USER, pass: write, name: 'mk-dashboard-write' },
      redeem: (t) => tokens.redeem(t),
    });
    o.log(`dashboard at ${d.url}`);
    return { url: d.url, async stop() { await d.stop(); await served.stop(); } };
  } catch (err) {
    await served.stop();
    o.log(`the dashboard could not start on ${o.address ?? '127.0.0.1'}:${o.port}: ${(err as Error).message}`);
    return undefined;
  }
}
