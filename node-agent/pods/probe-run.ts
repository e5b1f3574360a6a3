/**
 * Runs one probe once. httpGet and tcpSocket are a socket from the agent's own process to the pod
 * IP (reachable from the node's network namespace), no process per probe; exec goes through CRI
 * ExecSync with the probe's timeout.
 */
import net from 'node:net';
import type { Container } from '../../messages/pod';
import { probeTiming, resolveProbePort, type Probe } from '../../messages/probe';
import type { PodRuntime } from './types';

/** One probe's outcome, with what to say about a failure. */
export interface ProbeOutcome {
  outcome: 'success' | 'failure';
  message: string;
}

/** Where and how to run a probe. */
export interface ProbeTarget {
  probe: Probe;
  container: Container;
  containerId: string;
  podIP?: string;
}

/** Runs `target.probe` once; never throws (an error is a failure). */
export async function runProbe(cri: Pick<PodRuntime, 'execSync'>, target: ProbeTarget): Promise<ProbeOutcome> {
  const { probe, container } = target;
  const timeoutMs = probeTiming(probe).timeoutSeconds * 1000;
  try {
    if (probe.exec) return await execProbe(cri, target.containerId, probe.exec.command, probeTiming(probe).timeoutSeconds);
    const action = probe.httpGet ?? probe.tcpSocket;
    if (!action) return { outcome: 'failure', message: 'the probe has no handler' };
    const port = resolveProbePort(action.port, container);
    if (port === undefined) return { outcome: 'failure', message: `the container has no port named "${String(action.port)}"` };
    const host = action.host ?? target.podIP;
    if (!host) return { outcome: 'failure', message: 'the pod has no IP yet' };
    if (probe.httpGet) {
      return await httpProbe(host, port, probe.httpGet.path ?? '/', probe.httpGet.httpHeaders ?? [], timeoutMs);
    }
    return await tcpProbe(host, port, timeoutMs);
  } catch (err) {
    return { outcome: 'failure', message: err instanceof Error ? err.message : String(err) };
  }
}

async function execProbe(cri: Pick<PodRuntime, 'execSync'>, containerId: string, cmd: string[], timeoutSeconds: number): Promise<ProbeOutcome> {
  const res = await cri.execSync({ containerId, cmd, timeout: timeoutSeconds });
  if (res.exitCode === 0) return { outcome: 'success', message: '' };
  const out = Buffer.concat([res.stdout, res.stderr]).toString('utf8').trim().slice(0, 1024);
  return { outcome: 'failure', message: `command ${JSON.stringify(cmd)} exited with ${res.exitCode}${out ? `: ${out}` : ''}` };
}

/**
 * An HTTP/1.1 GET over a plain socket, read up to its status line: a probe needs the status code
 * only, and node's http client (an agent, a parser, a request object per probe) costs more CPU
 * per probe than this (docs/benchmarks.md, probes). The connection is closed after
 * the status line, as kubelet's probes close theirs. Headers the probe names replace the default
 * ones of the same name (Host, User-Agent, Accept).
 */
function httpProbe(host: string, port: number, path: string, headers: { name: string; value: string }[], timeoutMs: number): Promise<ProbeOutcome> {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const target = path.startsWith('/') ? path : `/${path}`;
  const url = `http://${authority}${target}`;
  const hdrs = new Map<string, [string, string]>([
    ['host', ['Host', authority]], ['user-agent', ['User-Agent', 'mk-probe']], ['accept', ['Accept', '*/*']],
  ]);
  for (const h of headers) hdrs.set(h.name.toLowerCase(), [h.name, h.value]);
  hdrs.set('connection', ['Connection', 'close']);
  const head = `GET ${target} HTTP/1.1\r\n${[...hdrs.values()].map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve) => {
    let done = false;
    let got = '';
    const sock = net.connect({ host, port, timeout: timeoutMs });
    const finish = (o: ProbeOutcome) => { if (done) return; done = true; sock.destroy(); resolve(o); };
    sock.setEncoding('latin1');
    sock.once('connect', () => sock.write(head));
    sock.on('data', (chunk: string) => {
      got += chunk;
      const eol = got.indexOf('\r\n');
      if (eol < 0 && got.length < STATUS_LINE_MAX) return;
      const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(eol < 0 ? got : got.slice(0, eol));
      if (!m) { finish({ outcome: 'failure', message: `Get "${url}": malformed HTTP response ${JSON.stringify(got.slice(0, 40))}` }); return; }
      const code = Number(m[1]);
      finish(code >= 200 && code < 400
        ? { outcome: 'success', message: '' }
        : { outcome: 'failure', message: `HTTP probe failed with statuscode: ${code}` });
    });
    sock.once('timeout', () => finish({ outcome: 'failure', message: `Get "${url}": timed out after ${timeoutMs} ms` }));
    sock.once('error', (err) => finish({ outcome: 'failure', message: `Get "${url}": ${err.message}` }));
    sock.once('end', () => finish({ outcome: 'failure', message: `Get "${url}": the server closed the connection without a status line` }));
  });
}

/** A status line longer than this is not HTTP. */
const STATUS_LINE_MAX = 4096;

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: timeoutMs });
    sock.once('connect', () => { sock.destroy(); resolve({ outcome: 'success', message: '' }); });
    sock.once('timeout', () => { sock.destroy(); resolve({ outcome: 'failure', message: `dial tcp ${host}:${port}: timed out after ${timeoutMs} ms` }); });
    sock.once('error', (err) => resolve({ outcome: 'failure', message: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}
