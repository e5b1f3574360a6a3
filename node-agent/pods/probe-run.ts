/**
 * Runs one probe once. httpGet and tcpSocket are a socket from the agent's own process to the pod
 * IP (reachable from the node's network namespace), no process per probe; exec goes through CRI
 * ExecSync with the probe's timeout.
 */
import http from 'node:http';
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

function httpProbe(host: string, port: number, path: string, headers: { name: string; value: string }[], timeoutMs: number): Promise<ProbeOutcome> {
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
  return new Promise((resolve) => {
    const hdrs: Record<string, string> = { 'User-Agent': 'mk-probe', Accept: '*/*', Connection: 'close' };
    for (const h of headers) hdrs[h.name] = h.value;
    const req = http.get(url, { agent: false, headers: hdrs, timeout: timeoutMs }, (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      if (code >= 200 && code < 400) resolve({ outcome: 'success', message: '' });
      else resolve({ outcome: 'failure', message: `HTTP probe failed with statuscode: ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`Get "${url}": timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ outcome: 'failure', message: err.message.startsWith('Get ') ? err.message : `Get "${url}": ${err.message}` }));
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: timeoutMs });
    sock.once('connect', () => { sock.destroy(); resolve({ outcome: 'success', message: '' }); });
    sock.once('timeout', () => { sock.destroy(); resolve({ outcome: 'failure', message: `dial tcp ${host}:${port}: timed out after ${timeoutMs} ms` }); });
    sock.once('error', (err) => resolve({ outcome: 'failure', message: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}
