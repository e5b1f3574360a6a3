/**
 * The pod's and containers' securityContext as CRI security contexts, the way kubelet derives them
 * (kubernetes/kubernetes pkg/kubelet/kuberuntime/security_context.go and
 * kuberuntime_sandbox.go): container fields override the pod's, fsGroup joins the supplemental
 * groups, a sandbox is privileged when one of its containers is. containerd and runc enforce the
 * result; the only check made here is runAsNonRoot, which needs the image's user.
 * https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
 */
import { posix } from 'node:path';
import type { Container, Pod } from '../../messages/pod';
import { capabilityName, type SeccompProfile } from '../../messages/security-context';
import type { LinuxContainerSecurityContext, LinuxPodSandboxConfig, SecurityProfile } from '../cri/types';
import { ContainerConfigError } from './errors';

export { ContainerConfigError } from './errors';

/** Where Localhost seccomp profiles live on a node unless the agent is told otherwise. */
export const DEFAULT_SECCOMP_PROFILE_ROOT = '/var/lib/mk/seccomp';

/** The user an image runs as (CRI ImageStatus): a numeric uid, a user name, or neither (root). */
export interface ImageUser { uid?: number; username?: string }


function seccomp(p: SeccompProfile | undefined, root: string): SecurityProfile | undefined {
  if (!p) return undefined;
  if (p.type !== 'Localhost') return { profileType: p.type };
  return { profileType: 'Localhost', localhostRef: posix.join(root, p.localhostProfile ?? '') };
}

/** fsGroup, then the pod's supplementalGroups, each once. */
function supplementalGroups(pod: Pod): number[] {
  const sc = pod.spec.securityContext;
  return [...new Set([...(sc?.fsGroup !== undefined ? [sc.fsGroup] : []), ...(sc?.supplementalGroups ?? [])])];
}

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
}

/**
 * The sandbox's security context and sysctls, or {} when the pod asks for nothing. The sandbox
 * runs privileged when a container is, as containerd refuses a privileged container otherwise.
 */
export function sandboxSecurity(pod: Pod, seccompRoot = DEFAULT_SECCOMP_PROFILE_ROOT): Omit<LinuxPodSandboxConfig, 'cgroupParent'> {
  const sc = pod.spec.securityContext;
  const privileged = allContainers(pod).some((c) => c.securityContext?.privileged === true);
  if (!sc && !privileged) return {};
  const groups = supplementalGroups(pod);
  const profile = seccomp(sc?.seccompProfile, seccompRoot);
  const out: Omit<LinuxPodSandboxConfig, 'cgroupParent'> = {
    securityContext: {
      ...(sc?.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
      // containerd takes a group only with a user; the pause process does not care which group it has.
      ...(sc?.runAsUser !== undefined && sc.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
      ...(groups.length > 0 ? { supplementalGroups: groups } : {}),
      ...(privileged ? { privileged } : {}),
      ...(profile ? { seccomp: profile } : {}),
    },
  };
  if (sc?.sysctls?.length) out.sysctls = Object.fromEntries(sc.sysctls.map((s) => [s.name, s.value]));
  return out;
}

/** The user, group and non-root policy a container runs with: its own fields, else the pod's. */
export function effectiveUser(pod: Pod, c: Container): { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean } {
  const p = pod.spec.securityContext;
  const s = c.securityContext;
  const runAsUser = s?.runAsUser ?? p?.runAsUser;
  const runAsGroup = s?.runAsGroup ?? p?.runAsGroup;
  const runAsNonRoot = s?.runAsNonRoot ?? p?.runAsNonRoot;
  return {
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    ...(runAsNonRoot !== undefined ? { runAsNonRoot } : {}),
  };
}

/** Whether building the container's security context needs its image's user (ImageStatus). */
export function needsImageUser(pod: Pod, c: Container): boolean {
  const u = effectiveUser(pod, c);
  return u.runAsUser === undefined && (u.runAsNonRoot === true || u.runAsGroup !== undefined);
}

/**
 * Refuses a container that would run as root under runAsNonRoot, like kubelet's
 * verifyRunAsNonRoot: by runAsUser when set, else by the image's user; a named image user cannot
 * be checked without the image's passwd file, so it is refused too.
 */
export function verifyRunAsNonRoot(pod: Pod, c: Container, image: ImageUser | undefined): void {
  const u = effectiveUser(pod, c);
  if (u.runAsNonRoot !== true) return;
  const where = `(pod: "${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})", container: ${c.name})`;
  if (u.runAsUser !== undefined) {
    if (u.runAsUser === 0) throw new ContainerConfigError(`container's runAsUser 0 breaks its runAsNonRoot policy ${where}`);
    return;
  }
  if (image?.username) {
    throw new ContainerConfigError(
      `container has runAsNonRoot and its image has the non-numeric user "${image.username}", which cannot be checked for root; `
      + `set a numeric runAsUser ${where}`,
    );
  }
  if (!image?.uid) throw new ContainerConfigError(`container has runAsNonRoot but its image runs as root (uid 0); set runAsUser ${where}`);
}

/**
 * CreateContainer's Linux security context, or undefined when neither the pod nor the container
 * sets a securityContext. `image` is the image's user, needed when needsImageUser says so.
 * Throws ContainerConfigError when runAsNonRoot forbids the user.
 */
export function containerSecurityContext(
  pod: Pod, c: Container, image?: ImageUser, seccompRoot = DEFAULT_SECCOMP_PROFILE_ROOT,
): LinuxContainerSecurityContext | undefined {
  const p = pod.spec.securityContext;
  const s = c.securityContext;
  if (!p && !s) return undefined;
  verifyRunAsNonRoot(pod, c, image);
  const u = effectiveUser(pod, c);
  const out: LinuxContainerSecurityContext = {};
  if (u.runAsUser !== undefined) {
    out.runAsUser = { value: u.runAsUser };
  } else if (u.runAsGroup !== undefined) {
    // containerd takes a group only beside a user: name the image's own user explicitly.
    if (image?.username) out.runAsUsername = image.username;
    else out.runAsUser = { value: image?.uid ?? 0 };
  }
  if (u.runAsGroup !== undefined) out.runAsGroup = { value: u.runAsGroup };
  const groups = supplementalGroups(pod);
  if (groups.length > 0) out.supplementalGroups = groups;
  if (s?.privileged) out.privileged = true;
  if (s?.readOnlyRootFilesystem) out.readonlyRootfs = true;
  if (s?.allowPrivilegeEscalation === false) out.noNewPrivs = true;
  // CRI names capabilities without the CAP_ prefix (containerd adds it).
  const add = (s?.capabilities?.add ?? []).map(capabilityName);
  const drop = (s?.capabilities?.drop ?? []).map(capabilityName);
  if (add.length > 0 || drop.length > 0) {
    out.capabilities = { ...(add.length > 0 ? { addCapabilities: add } : {}), ...(drop.length > 0 ? { dropCapabilities: drop } : {}) };
  }
  const profile = seccomp(s?.seccompProfile ?? p?.seccompProfile, seccompRoot);
  if (profile) out.seccomp = profile;
  return out;
}
