/**
 * Where each process of a `mk up` cluster serves Prometheus metrics, kept in
 * `<data-dir>/metrics.json` so a resumed `mk up` (and a Prometheus scrape config written for it)
 * finds the same URLs. Control planes and a single node agent listen on loopback, each on a free
 * port picked once; the node agents of `mk up --nodes N` listen on their node's bridge address,
 * all on NODE_METRICS_PORT (each namespace has its own ports), which this machine reaches.
 * `<data-dir>/prometheus-targets.json` lists the same endpoints in Prometheus' file service
 * discovery format, so a Prometheus pointed at it (examples/monitoring/prometheus.yml) follows.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ChildName, ClusterPaths } from './paths';

/** The file that keeps the endpoints. */
export const METRICS_FILE = 'metrics.json';
/** The same endpoints for Prometheus' file_sd_configs. */
export const PROMETHEUS_TARGETS_FILE = 'prometheus-targets.json';
/** The port of node agents in network namespaces of their own (kubelet's read-only port is 10255; this is its own). */
export const NODE_METRICS_PORT = 10249;

/** Where one child serves `/metrics`. */
export interface MetricsEndpoint { host: string; port: number }
/** By supervised child name. */
export type MetricsEndpoints = Partial<Record<ChildName, MetricsEndpoint>>;

/** What a child asks for: loopback with a free port, or a fixed address and port. */
export interface MetricsWant { name: ChildName; host: string; port?: number }

/** The endpoints kept in the data directory ({} when none are, or the file is not readable JSON). */
export function readMetricsEndpoints(paths: ClusterPaths): MetricsEndpoints {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(paths.dataDir, METRICS_FILE), 'utf8')) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
    const out: MetricsEndpoints = {};
    for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
      const e = v as Partial<MetricsEndpoint> | null;
      if (e && typeof e.host === 'string' && Number.isInteger(e.port) && e.port! > 0 && e.port! < 65536) {
        out[name as ChildName] = { host: e.host, port: e.port! };
      }
    }
    return out;
  } catch {
    return {};
  }
}

/** `http://host:port/metrics`. */
export function endpointUrl(e: MetricsEndpoint): string {
  return `http://${e.host}:${e.port}/metrics`;
}

/** A port on `host` nothing listens on now (the kernel's pick). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether `port` on `host` can be listened on now. */
function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * The endpoint of every child in `wants`: a fixed port as asked; else the one kept for it when
 * it is on the same host and still free; else a new free port (`say` tells why a kept one
 * moved). Writes the result (these children only) back. Call it before the children start, so
 * their own old listeners are gone.
 */
export async function resolveMetricsEndpoints(
  paths: ClusterPaths, wants: MetricsWant[], say: (line: string) => void = () => undefined,
): Promise<MetricsEndpoints> {
  const kept = readMetricsEndpoints(paths);
  const out: MetricsEndpoints = {};
  const taken = new Set<string>();
  const pick = async (host: string): Promise<number> => {
    // Two picks in a row may get the same port back (each closes before the next): pick again.
    for (;;) {
      const port = await freePort(host);
      if (!taken.has(`${host}:${port}`)) return port;
    }
  };
  for (const w of wants) {
    if (w.port !== undefined) {
      out[w.name] = { host: w.host, port: w.port };
      taken.add(`${w.host}:${w.port}`);
      continue;
    }
    const old = kept[w.name];
    if (old && old.host === w.host && !taken.has(`${old.host}:${old.port}`) && await canListen(old.host, old.port)) {
      out[w.name] = old;
    } else {
      if (old && old.host === w.host) say(`metrics port ${old.port} of ${w.name} is taken now; it moves to another`);
      out[w.name] = { host: w.host, port: await pick(w.host) };
    }
    taken.add(`${w.host}:${out[w.name]!.port}`);
  }
  fs.writeFileSync(path.join(paths.dataDir, METRICS_FILE), `${JSON.stringify(out, null, 2)}\n`, { mode: 0o644 });
  fs.writeFileSync(path.join(paths.dataDir, PROMETHEUS_TARGETS_FILE), `${JSON.stringify(prometheusTargets(out), null, 2)}\n`, { mode: 0o644 });
  return out;
}

/**
 * The endpoints as Prometheus file service discovery reads them
 * (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config):
 * one group per process, labelled `mk_process` (the supervised child's name) and `mk_role`.
 */
export function prometheusTargets(endpoints: MetricsEndpoints): { targets: string[]; labels: Record<string, string> }[] {
  return Object.entries(endpoints).map(([name, e]) => ({
    targets: [`${e!.host}:${e!.port}`],
    labels: { mk_process: name, mk_role: name.startsWith('control-plane') ? 'control-plane' : 'node-agent' },
  }));
}

/** The flags that give a child its endpoint. */
export function metricsArgs(e: MetricsEndpoint | undefined): string[] {
  return e ? ['--metrics-address', e.host, '--metrics-port', String(e.port)] : [];
}
