/**
 * `npm run bench -- service [--rounds R] [--seconds S] [--connections C]` (as root): HTTP
 * requests from a client host through a Service's ClusterIP and NodePort, programmed by the
 * node's service proxy (real iptables), against the same requests straight to the pod's IP.
 * One node namespace with a pod bridge, one client namespace routed to the node; keep-alive and a
 * new connection per request; the targets alternate over R rounds.
 *
 * Each target has a backend pod of its own (the same server): the ClusterIP and the NodePort are
 * both masqueraded to the bridge address, so one pod behind both would see the client's source
 * ports, reused at once by a client that did not close first, arrive through one address with two
 * TCP timestamp clocks (Linux keeps one per source and destination pair: the ClusterIP and the
 * node's address). The pod's TIME_WAIT of the last connection on that address and port (60 s)
 * rejects a SYN with an older timestamp (TcpExtPAWSTimewait) and answers with an ACK; the client
 * resets and sends the SYN again at once, but that one is masqueraded anew and can meet another
 * such TIME_WAIT, after which the next try waits 1 s (2 s, ...). Alternating targets within a
 * minute would measure that and not the path; the SYN retransmits of each run are printed.
 */
import { runInNetns } from '../helpers/netns';
import { startServiceProxy } from '../../node-agent/proxy';
import { intFlag } from './flags';
import { formatLoad, formatSynRetrans, LOAD_SCRIPT, type LoadResult, type LoadRun, type LoadSample } from './http-load-report';
import { cleanup, clientNs, NODE_IP, nodeNs, onCleanup, podNs, serviceOf, sliceOf, startIn, StaticSource } from './net-env';
import { measureBusy } from './quiet';
import type { TestNetns } from '../helpers/netns';

/** The backend: a small HTTP server on :8080 answering `ok`. */
export const BACKEND_SCRIPT = `require('http').createServer((q, s) => s.end('ok')).listen(8080, () => console.log('ready'));`;

const POD_IP = '10.244.1.11';
/** The pods behind the ClusterIP and behind the NodePort (see above). */
const CLUSTER_IP_POD = '10.244.1.12';
const NODE_PORT_POD = '10.244.1.13';
const CLUSTER_IP = '10.96.0.10';
/** The NodePort service's own cluster IP (not measured). */
const NODE_PORT_CLUSTER_IP = '10.96.0.11';
const NODE_PORT = 30080;
export const MODES = ['keep-alive', 'new-connection'];

/** Runs the load generator in `client` against `url`; throws when it fails or nothing succeeded. */
export async function load(client: TestNetns, url: string, mode: string, conns: number, seconds: number): Promise<LoadResult> {
  const r = await runInNetns(client.path, [process.execPath, '-e', LOAD_SCRIPT, url, mode, String(conns), String(seconds)], (seconds + 30) * 1000);
  if (r.code !== 0) throw new Error(`the load generator failed against ${url}: ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as LoadResult;
  if (res.requests === 0) throw new Error(`no request to ${url} succeeded (${res.errors} errors)`);
  return res;
}

/**
 * SYNs the client has retransmitted since its namespace was made (TcpExtTCPSynRetrans): a new
 * connection that waited for one; undefined when nstat is missing.
 */
export async function synRetransmits(client: TestNetns): Promise<number | undefined> {
  const r = await runInNetns(client.path, ['nstat', '-a', '-z', '-s', 'TcpExtTCPSynRetrans']).catch(() => undefined);
  const m = r?.code === 0 ? /TcpExtTCPSynRetrans\s+(\d+)/.exec(r.stdout) : null;
  return m ? Number(m[1]) : undefined;
}

/** Measures every target in every mode over `rounds`, the order rotated each round. */
export async function alternate(client: TestNetns, targets: [string, string][], rounds: number, conns: number, seconds: number): Promise<{ samples: LoadSample[]; busyBefore: number[]; synRetrans: Map<string, number> }> {
  console.error('warming up every target ...');
  for (const [, url] of targets) for (const mode of MODES) await load(client, url, mode, conns, 1);
  const samples: LoadSample[] = [];
  const busyBefore: number[] = [];
  const synRetrans = new Map<string, number>();
  for (let r = 1; r <= rounds; r++) {
    busyBefore.push(await measureBusy(500));
    const order = targets.map((_, i) => targets[(i + r - 1) % targets.length]);
    for (const mode of MODES) {
      for (const [target, url] of order) {
        const before = await synRetransmits(client);
        const result = await load(client, url, mode, conns, seconds);
        const after = await synRetransmits(client);
        const retrans = before !== undefined && after !== undefined ? after - before : undefined;
        if (retrans !== undefined) synRetrans.set(`${mode}, ${target}`, (synRetrans.get(`${mode}, ${target}`) ?? 0) + retrans);
        samples.push({ round: r, mode, target, result });
        console.error(`round ${r} ${mode} ${target}: ${Math.round(result.requests / result.seconds)} req/s, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors`
          + `${retrans === undefined ? '' : `, ${retrans} SYN retransmits`}`);
      }
    }
  }
  return { samples, busyBefore, synRetrans };
}


export async function serviceBench(args: string[], usage: string): Promise<void> {
  const rounds = intFlag(args, '--rounds', 5, usage);
  const seconds = intFlag(args, '--seconds', 5, usage);
  const conns = intFlag(args, '--connections', 8, usage);
  if (process.getuid?.() !== 0) throw new Error('service needs root (it creates network namespaces and programs iptables in one)');
  try {
    console.error('making a node, a backend pod and a client in network namespaces ...');
    const node = await nodeNs();
    const pods = [await podNs(node, 'web', POD_IP), await podNs(node, 'web-cip', CLUSTER_IP_POD), await podNs(node, 'web-np', NODE_PORT_POD)];
    const client = await clientNs(node);
    for (const pod of pods) await startIn(pod, ['-e', BACKEND_SCRIPT]);
    const source = new StaticSource();
    source.put(serviceOf('web-cip', CLUSTER_IP), [sliceOf('web-cip', [CLUSTER_IP_POD])]);
    source.put(serviceOf('web-np', NODE_PORT_CLUSTER_IP, NODE_PORT), [sliceOf('web-np', [NODE_PORT_POD])]);
    const proxy = await startServiceProxy({
      source, node: { name: 'n1', clusterCIDR: '10.244.0.0/16', podCIDR: '10.244.1.0/24' }, prefix: ['nsenter', `--net=${node.path}`, '--'],
      log: { info: () => undefined, warn: (o: object, m: string) => console.error(m, JSON.stringify(o)) }, metrics: false, healthChecks: false,
    });
    onCleanup(() => proxy.stop({ cleanup: true }));
    const targets: [string, string][] = [
      ['pod IP', `http://${POD_IP}:8080/`], ['ClusterIP', `http://${CLUSTER_IP}/`], ['NodePort', `http://${NODE_IP}:${NODE_PORT}/`],
    ];
    const { samples, busyBefore, synRetrans } = await alternate(client, targets, rounds, conns, seconds);
    const run: LoadRun = {
      title: `HTTP GET from a client host to a pod (Node.js server, 2-byte body; a pod per target), ${conns} connections, ${seconds} s per target`,
      targets: targets.map(([t]) => t), modes: MODES, samples, aim: 0.95, busyBefore,
    };
    for (const line of [...formatLoad(run), ...formatSynRetrans(synRetrans)]) console.log(line);
    console.log(JSON.stringify(run));
  } finally {
    await cleanup();
  }
}
