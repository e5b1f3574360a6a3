/**
 * `node dist/test/chaos/service-probe.js DATA_DIR DNS_SERVER [NAME ...]`, run inside a chaos
 * cluster's network namespace: prints (JSON, a ServiceProbe) every key of the Service allocation
 * bucket with its owner, the chain names of the node's nat table (iptables-save), and the A
 * answers of the node's cluster DNS at DNS_SERVER:53 for each NAME. A part that fails has its
 * error instead; the probe always exits 0 once it has printed.
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import * as packet from 'dns-packet';
import { connectBus, ObjectStore } from '../../bus';
import { busAuth, readContext } from '../../embedded/context';
import { CONTROL_PLANE_USER, readCredentials } from '../../embedded/credentials';
import { clusterPaths } from '../../embedded/paths';
import { SERVICE_ALLOCATIONS_BUCKET } from '../../messages';
import type { AllocationOwner } from '../../actors/service/allocations';
import type { ServiceProbe } from './service-invariants';

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

async function allocations(dataDir: string): Promise<ServiceProbe['allocations']> {
  // The bucket is the control plane's: read it as the control plane (the admin may not use JetStream).
  const paths = clusterPaths(dataDir);
  const pass = readCredentials(paths)?.users[CONTROL_PLANE_USER];
  const bus = await connectBus({
    ...busAuth(readContext(paths.dataDir)), ...(pass ? { user: CONTROL_PLANE_USER, pass } : {}), name: 'mk-chaos-service-probe', timeoutMs: 5_000,
  });
  try {
    const keys = await ObjectStore.open(bus, { bucket: SERVICE_ALLOCATIONS_BUCKET, create: false });
    return (await keys.list<AllocationOwner>('>')).items.map((k) => ({ key: k.key, owner: k.object }));
  } finally {
    await bus.close();
  }
}

function natChains(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('iptables-save', ['-t', 'nat'], { timeout: 10_000, maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err) { reject(err); return; }
      resolve(stdout.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
    });
  });
}

/** One A query over UDP; rejects after `timeoutMs`. */
function queryA(server: string, name: string, id: number, timeoutMs = 2_000): Promise<{ rcode: string; addresses: string[] }> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no answer for ${name} from ${server}:53 in ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('error', (e) => { clearTimeout(timer); sock.close(); reject(e); });
    sock.on('message', (buf) => {
      const m = packet.decode(buf) as packet.DecodedPacket & { rcode?: string };
      if (m.id !== id) return;
      clearTimeout(timer);
      sock.close();
      const addresses = (m.answers ?? []).flatMap((a) => (a.type === 'A' ? [String(a.data)] : []));
      resolve({ rcode: m.rcode ?? 'NOERROR', addresses });
    });
    const q = packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', class: 'IN', name }] });
    sock.send(q, 53, server);
  });
}

async function main(argv: string[]): Promise<void> {
  const [dataDir, server, ...names] = argv;
  const out: ServiceProbe = {};
  await Promise.all([
    allocations(dataDir).then((a) => { out.allocations = a; }, (e: unknown) => { out.allocationsError = msg(e); }),
    natChains().then((c) => { out.natChains = c; }, (e: unknown) => { out.iptablesError = msg(e); }),
    (async () => {
      const dns: NonNullable<ServiceProbe['dns']> = {};
      let id = 1;
      for (const name of names) dns[name] = await queryA(server, name, id++);
      out.dns = dns;
    })().catch((e: unknown) => { out.dnsError = msg(e); }),
  ]);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main(process.argv.slice(2)).then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${msg(e)}\n`);
  process.exit(1);
});
