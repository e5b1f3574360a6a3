/**
 * Container probes (liveness, readiness, startup): the subset of Kubernetes' v1 Probe that mk's
 * node agent runs. See https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/.
 * Pure schema and defaults; the node agent's prober (node-agent/pods/prober.ts) runs them.
 */
import { z } from 'zod';

/** The name form of a port: an IANA service name (lower case letters, digits, '-', at least one letter). */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/;

export const ProbePort = z.union([z.number().int(), z.string()]).superRefine((v, ctx) => {
  if (typeof v === 'number') {
    if (v < 1 || v > 65535) ctx.addIssue({ code: 'custom', message: `invalid port ${v}: must be between 1 and 65535` });
  } else if (!PORT_NAME.test(v)) {
    ctx.addIssue({ code: 'custom', message: `invalid port "${v}": a port name has 1-15 lower case letters, digits and '-'` });
  }
}).meta({
  title: 'ProbePort',
  description: 'A port number (1-65535), or the name of one of the container\'s ports.',
});

export const ExecAction = z.strictObject({
  command: z.array(z.string()).min(1, 'an exec probe needs a command').describe(
    'The program and its arguments, run inside the container with no shell; exit status 0 is success.',
  ),
}).meta({ title: 'ExecAction' });

export const HTTPHeader = z.strictObject({
  name: z.string().min(1).describe('The header name.'),
  value: z.string().describe('The header value.'),
}).meta({ title: 'HTTPHeader' });

export const HTTPGetAction = z.strictObject({
  path: z.string().optional().describe('The path to request; `/` when omitted.'),
  port: ProbePort.describe('The port to connect to, by number or by the name of a container port.'),
  host: z.string().optional().describe("The host to connect to; the pod's IP when omitted."),
  scheme: z.enum(['HTTP', 'HTTPS']).optional().describe('The scheme: only HTTP (the default) is supported; HTTPS is refused.'),
  httpHeaders: z.array(HTTPHeader).optional().describe('Extra request headers.'),
}).superRefine((a, ctx) => {
  if (a.scheme === 'HTTPS') {
    ctx.addIssue({ code: 'custom', path: ['scheme'], message: 'unsupported scheme "HTTPS": mk probes speak plain HTTP only' });
  }
}).meta({ title: 'HTTPGetAction' });

export const TCPSocketAction = z.strictObject({
  port: ProbePort.describe('The port to connect to, by number or by the name of a container port.'),
  host: z.string().optional().describe("The host to connect to; the pod's IP when omitted."),
}).meta({ title: 'TCPSocketAction' });

export const Probe = z.strictObject({
  exec: ExecAction.optional().describe('Run a command in the container (through CRI ExecSync).'),
  httpGet: HTTPGetAction.optional().describe('An HTTP GET; a status from 200 to 399 is success.'),
  tcpSocket: TCPSocketAction.optional().describe('A TCP connection; success when it is accepted.'),
  initialDelaySeconds: z.number().int().min(0).optional().describe(
    'Seconds after the container started before the first probe; 0 when omitted.',
  ),
  periodSeconds: z.number().int().min(1).optional().describe('Seconds between probes; 10 when omitted.'),
  timeoutSeconds: z.number().int().min(1).optional().describe(
    'Seconds a probe may take before it counts as failed; 1 when omitted.',
  ),
  successThreshold: z.number().int().min(1).optional().describe(
    'Consecutive successes after a failure to count as passing; 1 when omitted, and must be 1 for liveness and startup.',
  ),
  failureThreshold: z.number().int().min(1).optional().describe(
    'Consecutive failures to count as failing; 3 when omitted.',
  ),
  terminationGracePeriodSeconds: z.number().int().min(1).optional().describe(
    "Seconds between SIGTERM and SIGKILL when a liveness or startup failure kills the container; the pod's when omitted.",
  ),
}).superRefine((p, ctx) => {
  const handlers = (['exec', 'httpGet', 'tcpSocket'] as const).filter((h) => p[h] !== undefined);
  if (handlers.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'a probe needs one handler: exec, httpGet or tcpSocket' });
  } else if (handlers.length > 1) {
    ctx.addIssue({ code: 'custom', path: [handlers[1]], message: `a probe has one handler, this one has ${handlers.join(' and ')}` });
  }
}).meta({ title: 'Probe' });
export type Probe = z.infer<typeof Probe>;

export { probeTiming, type ProbeKind, type ProbeTiming } from './probe-timing';

/** A container's ports as the probe checks need them. */
interface NamedPorts { ports?: { name?: string | undefined; containerPort: number }[] | undefined }

/**
 * Problems of a container's probes beyond the shape: successThreshold of liveness and startup,
 * and port names the container does not declare. Paths are relative to the container.
 */
export function probeIssues(c: NamedPorts & { livenessProbe?: Probe | undefined; readinessProbe?: Probe | undefined; startupProbe?: Probe | undefined }): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const names = new Set((c.ports ?? []).map((p) => p.name).filter((n): n is string => !!n));
  for (const field of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const p = c[field];
    if (!p) continue;
    if (field !== 'readinessProbe' && p.successThreshold !== undefined && p.successThreshold !== 1) {
      out.push({ path: [field, 'successThreshold'], message: `must be 1 for ${field === 'livenessProbe' ? 'liveness' : 'startup'} probes, not ${p.successThreshold}` });
    }
    for (const h of ['httpGet', 'tcpSocket'] as const) {
      const port = p[h]?.port;
      if (typeof port === 'string' && !names.has(port)) {
        out.push({ path: [field, h, 'port'], message: `the container has no port named "${port}"` });
      }
    }
  }
  return out;
}

/** The port number a probe connects to: the number given, or the container port of that name. */
export function resolveProbePort(port: number | string, c: NamedPorts): number | undefined {
  if (typeof port === 'number') return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}
