/**
 * Health check node ports of `externalTrafficPolicy: Local` services, as kube-proxy serves them
 * (https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/):
 * on `spec.healthCheckNodePort`, `GET /` answers 200 while the node has a local endpoint of the
 * service and 503 when it has none, so a load balancer sends traffic only to nodes that keep it
 * local. The body says how many local endpoints there are.
 */
import * as http from 'node:http';

/** One service's health check: where it listens and how many local endpoints it has now. */
export interface HealthCheck { namespace: string; name: string; port: number; localEndpoints: number }

/** The health check servers of a node; sync() opens, updates and closes them. */
export class HealthCheckServers {
  private readonly servers = new Map<number, { server: http.Server; check: HealthCheck }>();
  private readonly closing = new Set<Promise<void>>();

  constructor(
    private readonly log: { warn(o: object, m: string): void },
    /** The address to listen on (default every address of the namespace). */
    private readonly host?: string,
  ) {}

  /** Makes the servers match `checks`: one per port; a port that cannot be opened is logged. */
  async sync(checks: HealthCheck[]): Promise<void> {
    const want = new Map(checks.map((c) => [c.port, c]));
    for (const [port, s] of [...this.servers]) {
      if (!want.has(port)) {
        this.servers.delete(port);
        // Not awaited: a keep-alive client would hold the sync pass up; close() waits.
        const closed = new Promise<void>((r) => s.server.close(() => r()));
        s.server.closeAllConnections();
        this.closing.add(closed);
        void closed.then(() => this.closing.delete(closed));
      }
    }
    for (const check of want.values()) {
      const have = this.servers.get(check.port);
      if (have) {
        have.check = check;
        continue;
      }
      const entry = { server: http.createServer((req, res) => this.answer(entry.check, res)), check };
      try {
        await new Promise<void>((resolve, reject) => {
          entry.server.once('error', reject);
          entry.server.listen(check.port, this.host, () => resolve());
        });
        this.servers.set(check.port, entry);
      } catch (err) {
        this.log.warn({ service: `${check.namespace}/${check.name}`, port: check.port, err: String(err) }, 'health check node port not served');
      }
    }
  }

  /** Closes every server and waits until they are closed. */
  async close(): Promise<void> {
    await this.sync([]);
    await Promise.all([...this.closing]);
  }

  private answer(check: HealthCheck, res: http.ServerResponse): void {
    res.writeHead(check.localEndpoints > 0 ? 200 : 503, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    res.end(JSON.stringify({ service: { namespace: check.namespace, name: check.name }, localEndpoints: check.localEndpoints }));
  }
}
