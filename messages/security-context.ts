/**
 * Pod and container securityContext: the subset of Kubernetes' PodSecurityContext and
 * SecurityContext that mk's node agent hands to containerd through CRI and that runc enforces.
 * See https://kubernetes.io/docs/tasks/configure-pod-container/security-context/ and
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#security-context.
 * Pure schema and validation; node-agent/pods/security.ts turns it into CRI configs.
 */
import { z } from 'zod';

/** The largest uid or gid Kubernetes accepts (a signed 32-bit int). */
const MAX_ID = 2147483647;

const Id = (what: string): z.ZodNumber => z.number().int(`${what} must be a whole number`)
  .min(0, `${what} must not be negative`).max(MAX_ID, `${what} must be at most ${MAX_ID}`);

/**
 * The sysctls a pod may set without the node opting in: namespaced, and unable to affect other
 * pods or the node. Kubernetes' safe set
 * (https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/#safe-and-unsafe-sysctls).
 */
export const SAFE_SYSCTLS: readonly string[] = Object.freeze([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

/** Linux capability names, without their `CAP_` prefix (capabilities(7)). */
export const CAPABILITIES: readonly string[] = Object.freeze([
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
]);
const KNOWN_CAPABILITIES = new Set(CAPABILITIES);

/**
 * A capability as written (`NET_ADMIN`, `CAP_NET_ADMIN`, `net_admin` or `ALL`) reduced to its bare
 * upper-case name, as the container runtime reads it.
 */
export function capabilityName(cap: string): string {
  const upper = cap.toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

const Capability = z.string().superRefine((v, ctx) => {
  const name = capabilityName(v);
  if (name !== 'ALL' && !KNOWN_CAPABILITIES.has(name)) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown capability "${v}": use a Linux capability name such as NET_ADMIN or CAP_NET_ADMIN, or ALL`,
    });
  }
});

export const Capabilities = z.strictObject({
  add: z.array(Capability).optional().describe(
    'Capabilities given to the process on top of the runtime\'s default set, such as `NET_ADMIN` '
    + '(the `CAP_` prefix and the case are optional); `ALL` gives every capability.',
  ),
  drop: z.array(Capability).optional().describe(
    'Capabilities taken from the default set; `ALL` drops every one, after which only those in add remain.',
  ),
}).meta({ title: 'Capabilities' });
export type Capabilities = z.infer<typeof Capabilities>;

export const SeccompProfile = z.strictObject({
  type: z.enum(['RuntimeDefault', 'Unconfined', 'Localhost']).describe(
    "Which seccomp filter the process runs under: RuntimeDefault (containerd's default profile), Unconfined (none) "
    + "or Localhost (a profile file on the node, named by localhostProfile). Without any seccompProfile a container "
    + 'runs Unconfined, as in Kubernetes.',
  ),
  localhostProfile: z.string().optional().describe(
    "With type Localhost, and only then: the profile's path (an OCI seccomp JSON file) relative to the node's seccomp "
    + "directory, `seccomp` in the node agent's data directory. A missing file keeps the container from being created.",
  ),
}).superRefine((p, ctx) => {
  if (p.type === 'Localhost') {
    if (!p.localhostProfile) {
      ctx.addIssue({ code: 'custom', path: ['localhostProfile'], message: 'localhostProfile is required when type is Localhost' });
    } else if (p.localhostProfile.startsWith('/') || p.localhostProfile.split('/').includes('..')) {
      ctx.addIssue({
        code: 'custom', path: ['localhostProfile'],
        message: `localhostProfile "${p.localhostProfile}" must be a path relative to the node's seccomp directory, without ".."`,
      });
    }
  } else if (p.localhostProfile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['localhostProfile'], message: `localhostProfile may only be set when type is Localhost, not ${p.type}` });
  }
}).meta({ title: 'SeccompProfile' });
export type SeccompProfile = z.infer<typeof SeccompProfile>;

export const Sysctl = z.strictObject({
  name: z.string().min(1).describe('The sysctl, dotted (`net.ipv4.ip_local_port_range`).'),
  value: z.string().min(1).describe('The value to write, as `sysctl -w` takes it (`1024 65000`).'),
}).superRefine((s, ctx) => {
  if (!SAFE_SYSCTLS.includes(s.name)) {
    ctx.addIssue({
      code: 'custom', path: ['name'],
      message: `sysctl "${s.name}" is not allowed: a pod may set only the safe, namespaced sysctls (${SAFE_SYSCTLS.join(', ')})`,
    });
  }
}).meta({ title: 'Sysctl' });
export type Sysctl = z.infer<typeof Sysctl>;

/**
 * Fields mk refuses with a reason rather than as unknown: the node's containerd here runs without
 * SELinux and AppArmor, so a profile could not be applied, and a pod must not start believing it is.
 */
const REFUSED = {
  seLinuxOptions: 'seLinuxOptions is not supported: mk nodes run containerd without SELinux, so the label could not be applied',
  appArmorProfile: 'appArmorProfile is not supported: mk nodes run containerd without AppArmor, so the profile could not be applied',
  windowsOptions: 'windowsOptions is not supported: mk runs Linux containers only',
} as const;

const refused = (field: keyof typeof REFUSED): z.ZodOptional<z.ZodUnknown> => z.unknown().optional().describe(
  `Not supported: ${REFUSED[field].split(': ')[1]}. A pod that sets it is refused.`,
);

function refuseUnsupported(sc: Partial<Record<keyof typeof REFUSED, unknown>>, ctx: z.RefinementCtx): void {
  for (const f of Object.keys(REFUSED) as (keyof typeof REFUSED)[]) {
    if (sc[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: REFUSED[f] });
  }
}

const runAsUser = (scope: string): z.ZodOptional<z.ZodNumber> => Id('runAsUser').optional().describe(
  `The uid the process runs as${scope}; the image's user when omitted.`,
);
const runAsGroup = (scope: string): z.ZodOptional<z.ZodNumber> => Id('runAsGroup').optional().describe(
  `The primary gid of the process${scope}; the image's group (or 0) when omitted.`,
);
const runAsNonRoot = (scope: string): z.ZodOptional<z.ZodBoolean> => z.boolean().optional().describe(
  `When true the node refuses to start a container that would run as uid 0${scope}: with neither runAsUser nor a numeric `
  + 'non-zero image user, the container waits with reason CreateContainerConfigError.',
);

export const PodSecurityContext = z.strictObject({
  runAsUser: runAsUser(', for every container that does not set its own'),
  runAsGroup: runAsGroup(', for every container that does not set its own'),
  runAsNonRoot: runAsNonRoot(', for every container that does not set its own'),
  supplementalGroups: z.array(Id('a supplemental group')).optional().describe(
    "Extra gids every container's first process belongs to, beside its primary group and the image's groups for its user.",
  ),
  fsGroup: Id('fsGroup').optional().describe(
    'A gid added to the supplemental groups of every container, and given to the files of the pod\'s emptyDir, configMap, '
    + 'secret and downwardAPI volumes and of writable local PersistentVolumes (group read, and write unless read-only; '
    + 'directories setgid), as Kubernetes does. hostPath and nfs volumes are left as they are.',
  ),
  fsGroupChangePolicy: z.enum(['Always', 'OnRootMismatch']).optional().describe(
    'When fsGroup is applied to a volume: Always (the default) walks the whole volume at each mount; OnRootMismatch only '
    + 'when its root directory does not already have the group and permissions.',
  ),
  sysctls: z.array(Sysctl).optional().describe(
    "Kernel parameters set in the pod's namespaces. Only the safe, namespaced set is allowed (as Kubernetes allows "
    + 'by default): kernel.shm_rmid_forced and net.ipv4.ip_local_port_range, tcp_syncookies, ping_group_range, '
    + 'ip_unprivileged_port_start, ip_local_reserved_ports, tcp_keepalive_time, tcp_fin_timeout, tcp_keepalive_intvl, '
    + 'tcp_keepalive_probes. Others are refused.',
  ),
  seccompProfile: SeccompProfile.optional().describe(
    'The seccomp filter of every container that does not set its own, and of the pod sandbox.',
  ),
  seLinuxOptions: refused('seLinuxOptions'),
  appArmorProfile: refused('appArmorProfile'),
  windowsOptions: refused('windowsOptions'),
}).superRefine((sc, ctx) => {
  refuseUnsupported(sc, ctx);
  const seen = new Set<string>();
  (sc.sysctls ?? []).forEach((s, i) => {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sysctls', i, 'name'], message: `duplicate sysctl "${s.name}"` });
    seen.add(s.name);
  });
}).meta({ title: 'PodSecurityContext' });
export type PodSecurityContext = z.infer<typeof PodSecurityContext>;

export const SecurityContext = z.strictObject({
  runAsUser: runAsUser('; overrides the pod\'s runAsUser'),
  runAsGroup: runAsGroup('; overrides the pod\'s runAsGroup'),
  runAsNonRoot: runAsNonRoot('; overrides the pod\'s runAsNonRoot'),
  capabilities: Capabilities.optional().describe(
    "Capabilities added to and dropped from the runtime's default set. Ignored for privileged containers, which have all.",
  ),
  privileged: z.boolean().optional().describe(
    "Runs the container with every capability, the node's devices in /dev, no seccomp filter and writable /sys and /proc: "
    + 'root in the container is close to root on the node.',
  ),
  readOnlyRootFilesystem: z.boolean().optional().describe(
    "Mounts the container's root filesystem read-only, so writes outside mounted volumes fail.",
  ),
  allowPrivilegeEscalation: z.boolean().optional().describe(
    'false sets no_new_privs, so no process in the container can gain privileges (setuid binaries, file capabilities). '
    + 'Allowed when omitted; false cannot go with privileged or with adding SYS_ADMIN.',
  ),
  seccompProfile: SeccompProfile.optional().describe("The container's seccomp filter; overrides the pod's seccompProfile."),
  procMount: z.enum(['Default', 'Unmasked']).optional().describe(
    'How /proc is mounted: Default masks and makes read-only the sensitive paths. Unmasked needs user namespaces, '
    + 'which mk does not support, and is refused.',
  ),
  seLinuxOptions: refused('seLinuxOptions'),
  appArmorProfile: refused('appArmorProfile'),
  windowsOptions: refused('windowsOptions'),
}).superRefine((sc, ctx) => {
  refuseUnsupported(sc, ctx);
  if (sc.procMount === 'Unmasked') {
    ctx.addIssue({ code: 'custom', path: ['procMount'], message: 'procMount Unmasked is not supported: it needs user namespaces; use Default' });
  }
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged) {
      ctx.addIssue({ code: 'custom', path: ['allowPrivilegeEscalation'], message: 'allowPrivilegeEscalation cannot be false when privileged is true' });
    }
    if ((sc.capabilities?.add ?? []).some((c) => capabilityName(c) === 'SYS_ADMIN')) {
      ctx.addIssue({
        code: 'custom', path: ['allowPrivilegeEscalation'],
        message: 'allowPrivilegeEscalation cannot be false when capabilities.add has SYS_ADMIN',
      });
    }
  }
}).meta({ title: 'SecurityContext' });
export type SecurityContext = z.infer<typeof SecurityContext>;
