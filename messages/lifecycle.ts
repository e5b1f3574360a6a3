/**
 * Container lifecycle hooks, /etc/hosts entries and the pod's resolver settings: the subsets of
 * Kubernetes' v1 Lifecycle, HostAlias and PodDNSConfig that mk supports. Pure schemas and checks;
 * the node agent runs the hooks (node-agent/pods/hooks.ts) and writes the files.
 * See https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/,
 * https://kubernetes.io/docs/tasks/network/customize-hosts-file-for-pods/ and
 * https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy.
 */
import { z } from 'zod';
import { ExecAction, HTTPGetAction } from './probe';

export const SleepAction = z.strictObject({
  seconds: z.number().int().min(0).describe(
    'How long to wait, in seconds. A preStop sleep is cut short when the grace period ends.',
  ),
}).meta({ title: 'SleepAction' });

/** The handler kinds a hook may have, in the order they are reported. */
export const HOOK_HANDLERS = ['exec', 'httpGet', 'sleep'] as const;

export const LifecycleHandler = z.strictObject({
  exec: ExecAction.optional().describe(
    'Run a command in the container (through CRI ExecSync); a non-zero exit status is a failure.',
  ),
  httpGet: HTTPGetAction.optional().describe(
    'An HTTP GET from the node; a status outside 200-399 is a failure.',
  ),
  sleep: SleepAction.optional().describe(
    'Wait this long (in the node agent, not the container) before going on.',
  ),
}).superRefine((h, ctx) => {
  const set = HOOK_HANDLERS.filter((k) => h[k] !== undefined);
  if (set.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'a lifecycle hook needs one handler: exec, httpGet or sleep' });
  } else if (set.length > 1) {
    ctx.addIssue({
      code: 'custom', path: [set[1]],
      message: `a lifecycle hook has one handler, this one has ${set.join(' and ')}`,
    });
  }
}).meta({ title: 'LifecycleHandler' });
export type LifecycleHandler = z.infer<typeof LifecycleHandler>;

export const Lifecycle = z.strictObject({
  postStart: LifecycleHandler.optional().describe(
    'Runs right after the container starts, beside its program. The container is not Running '
    + 'until the hook returns; if the hook fails the container is killed (event '
    + 'FailedPostStartHook) and restarted as the restartPolicy says.',
  ),
  preStop: LifecycleHandler.optional().describe(
    'Runs before the container is stopped (pod deletion, liveness failure, new image), inside '
    + 'the grace period: SIGTERM follows when it returns, and SIGKILL comes at the end of the '
    + 'grace period whatever it is doing. A failure gives event FailedPreStopHook and the stop '
    + 'goes on. Skipped when the grace period is 0.',
  ),
}).meta({ title: 'Lifecycle' });
export type Lifecycle = z.infer<typeof Lifecycle>;

/** A container's ports and hooks, as the hook checks need them. */
interface HookContainer {
  ports?: { name?: string | undefined; containerPort: number }[] | undefined;
  lifecycle?: Lifecycle | undefined;
}

/** Hook httpGet ports named but not declared by the container. Paths are relative to it. */
export function lifecycleIssues(c: HookContainer): { path: (string | number)[]; message: string }[] {
  const names = new Set((c.ports ?? []).map((p) => p.name).filter((n): n is string => !!n));
  const out: { path: (string | number)[]; message: string }[] = [];
  for (const hook of ['postStart', 'preStop'] as const) {
    const port = c.lifecycle?.[hook]?.httpGet?.port;
    if (typeof port === 'string' && !names.has(port)) {
      out.push({ path: ['lifecycle', hook, 'httpGet', 'port'], message: `the container has no port named "${port}"` });
    }
  }
  return out;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv4 address in dotted decimal, or an IPv6 address (hex groups, `::` at most once). */
export function isIPAddress(v: string): boolean {
  if (IPV4.test(v)) return true;
  if (!/^[0-9a-fA-F:.]+$/.test(v) || !v.includes(':')) return false;
  const halves = v.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  const last = groups[groups.length - 1] ?? '';
  const tail4 = IPV4.test(last);
  const hex = tail4 ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = hex.length + (tail4 ? 2 : 0);
  return halves.length === 2 ? count < 8 : count === 8;
}

/** A DNS-1123 subdomain: the form of a hostname in /etc/hosts. */
const HOSTNAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const HostAlias = z.strictObject({
  ip: z.string().refine((v) => isIPAddress(v), { message: 'must be an IPv4 or IPv6 address' }).describe(
    'The address the hostnames resolve to.',
  ),
  hostnames: z.array(
    z.string().max(253).regex(HOSTNAME, 'must be a lower case DNS name (letters, digits, "-" and ".")'),
  ).min(1, 'a host alias needs at least one hostname').describe('The names given to ip in /etc/hosts.'),
}).meta({ title: 'HostAlias' });
export type HostAlias = z.infer<typeof HostAlias>;

/** Kubernetes' limits on a pod's resolver (pkg/apis/core/validation: MaxDNSNameservers, ...). */
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCHES = 32;
export const MAX_DNS_SEARCH_CHARS = 2048;

export const PodDNSConfigOption = z.strictObject({
  name: z.string().min(1, 'a resolver option needs a name').describe('The option, such as `ndots`.'),
  value: z.string().optional().describe('Its value, such as `2`; none for a flag like `rotate`.'),
}).meta({ title: 'PodDNSConfigOption' });

export const PodDNSConfig = z.strictObject({
  nameservers: z.array(
    z.string().refine((v) => isIPAddress(v), { message: 'must be an IPv4 or IPv6 address' }),
  ).max(MAX_DNS_NAMESERVERS, `at most ${MAX_DNS_NAMESERVERS} nameservers`).optional().describe(
    'Resolver addresses, added after those the dnsPolicy gives (at most 3 in all are used).',
  ),
  searches: z.array(z.string().min(1).max(253)).max(MAX_DNS_SEARCHES, `at most ${MAX_DNS_SEARCHES} search domains`)
    .refine((s) => s.join(' ').length <= MAX_DNS_SEARCH_CHARS, {
      message: `the search domains take at most ${MAX_DNS_SEARCH_CHARS} characters`,
    }).optional().describe(
      'Search domains, added after those the dnsPolicy gives (at most 32).',
    ),
  options: z.array(PodDNSConfigOption).optional().describe(
    'Resolver options; one of the same name that the dnsPolicy gives is replaced.',
  ),
}).meta({ title: 'PodDNSConfig' });
export type PodDNSConfig = z.infer<typeof PodDNSConfig>;

export const DNSPolicy = z.enum(['ClusterFirst', 'Default', 'None', 'ClusterFirstWithHostNet']);
export type DNSPolicy = z.infer<typeof DNSPolicy>;

/** A pod's DNS fields, as the check needs them. */
interface DnsFields { dnsPolicy?: DNSPolicy | undefined; dnsConfig?: PodDNSConfig | undefined }

/** dnsPolicy None without nameservers: a pod that could resolve nothing. */
export function dnsIssues(spec: DnsFields): { path: (string | number)[]; message: string }[] {
  if (spec.dnsPolicy !== 'None') return [];
  if (!spec.dnsConfig) return [{ path: ['dnsConfig'], message: 'required when dnsPolicy is None' }];
  if (!spec.dnsConfig.nameservers?.length) {
    return [{ path: ['dnsConfig', 'nameservers'], message: 'at least one nameserver is required when dnsPolicy is None' }];
  }
  return [];
}
