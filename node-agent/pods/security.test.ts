import pino from 'pino';
import type { Container, Pod } from '../../messages/pod';
import { buildContainerConfig, buildSandboxConfig } from './cri-spec';
import { executeActions } from './execute';
import { emptyBackoff } from './backoff';
import { FakeCriRuntime, makePod, observed, sandboxObs } from './fixtures';
import { CONFIG_RETRY_MS, reconcilePod } from './reconcile';
import { ContainerConfigError, containerSecurityContext, needsImageUser, sandboxSecurity } from './security';

const podWith = (sc: Pod['spec']['securityContext'], containers: Container[] = [{ name: 'app', image: 'busybox' }]): Pod =>
  makePod({ containers, ...(sc ? { securityContext: sc } : {}) });

describe('securityContext -> CRI', () => {
  it('leaves the configs as they were when neither pod nor container sets one', () => {
    const pod = podWith(undefined);
    expect(sandboxSecurity(pod)).toEqual({});
    expect(containerSecurityContext(pod, pod.spec.containers[0])).toBeUndefined();
    expect(buildContainerConfig(pod, pod.spec.containers[0], 0).linux).toEqual({ resources: { cpuShares: 2 } });
    expect(buildSandboxConfig(pod, { podLogsRoot: '/l' }, 0).linux).toEqual({ cgroupParent: '/kubepods/besteffort/poduid-1' });
  });

  it('maps the pod fields to the sandbox: user, group, fsGroup first among the supplemental groups, seccomp, sysctls', () => {
    const pod = podWith({
      runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000, 2000], seccompProfile: { type: 'RuntimeDefault' },
      sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }, { name: 'kernel.shm_rmid_forced', value: '1' }],
    });
    expect(buildSandboxConfig(pod, { podLogsRoot: '/l' }, 0).linux).toEqual({
      cgroupParent: '/kubepods/besteffort/poduid-1',
      securityContext: {
        runAsUser: { value: 1000 }, runAsGroup: { value: 3000 }, supplementalGroups: [2000, 4000], seccomp: { profileType: 'RuntimeDefault' },
      },
      sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80', 'kernel.shm_rmid_forced': '1' },
    });
  });

  it('makes the sandbox privileged when any container, init containers included, is', () => {
    const pod = makePod({
      initContainers: [{ name: 'init', image: 'busybox', securityContext: { privileged: true } }],
      containers: [{ name: 'app', image: 'busybox' }],
    });
    expect(sandboxSecurity(pod)).toEqual({ securityContext: { privileged: true } });
    // A group without a user is not given to the sandbox: containerd refuses it.
    expect(sandboxSecurity(podWith({ runAsGroup: 5 }))).toEqual({ securityContext: {} });
  });

  it('lets container fields override the pod\'s and maps the container-only fields', () => {
    const pod = podWith({ runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } }, [{
      name: 'app', image: 'busybox',
      securityContext: {
        runAsUser: 1001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
        capabilities: { drop: ['all'], add: ['CAP_NET_BIND_SERVICE', 'chown'] }, seccompProfile: { type: 'Unconfined' }, procMount: 'Default',
      },
    }]);
    expect(buildContainerConfig(pod, pod.spec.containers[0], 0).linux?.securityContext).toEqual({
      runAsUser: { value: 1001 }, runAsGroup: { value: 3000 }, supplementalGroups: [2000],
      readonlyRootfs: true, noNewPrivs: true,
      capabilities: { addCapabilities: ['NET_BIND_SERVICE', 'CHOWN'], dropCapabilities: ['ALL'] },
      seccomp: { profileType: 'Unconfined' },
    });
    const priv = podWith(undefined, [{ name: 'p', image: 'busybox', securityContext: { privileged: true, allowPrivilegeEscalation: true } }]);
    expect(containerSecurityContext(priv, priv.spec.containers[0])).toEqual({ privileged: true });
  });

  it('resolves Localhost seccomp profiles under the node\'s seccomp directory', () => {
    const pod = podWith({ seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } });
    expect(containerSecurityContext(pod, pod.spec.containers[0])?.seccomp).toEqual({ profileType: 'Localhost', localhostRef: '/var/lib/mk/seccomp/profiles/audit.json' });
    expect(sandboxSecurity(pod, '/srv/seccomp/').securityContext?.seccomp).toEqual({ profileType: 'Localhost', localhostRef: '/srv/seccomp/profiles/audit.json' });
  });

  it('gives a group without a user to the image\'s own user, which containerd needs beside it', () => {
    const pod = podWith({ runAsGroup: 3000 });
    const c = pod.spec.containers[0];
    expect(needsImageUser(pod, c)).toBe(true);
    expect(containerSecurityContext(pod, c, { uid: 7 })).toEqual({ runAsUser: { value: 7 }, runAsGroup: { value: 3000 } });
    expect(containerSecurityContext(pod, c, { username: 'www' })).toEqual({ runAsUsername: 'www', runAsGroup: { value: 3000 } });
    expect(containerSecurityContext(pod, c, {})).toEqual({ runAsUser: { value: 0 }, runAsGroup: { value: 3000 } });
    expect(needsImageUser(podWith({ runAsGroup: 3000, runAsUser: 1 }), c)).toBe(false);
  });

  describe('runAsNonRoot', () => {
    const nonRoot = (sc: Pod['spec']['securityContext'], csc?: Container['securityContext']): [Pod, Container] => {
      const pod = podWith(sc, [{ name: 'app', image: 'busybox', ...(csc ? { securityContext: csc } : {}) }]);
      return [pod, pod.spec.containers[0]];
    };

    it('allows a non-zero runAsUser or a non-zero numeric image user', () => {
      expect(containerSecurityContext(...nonRoot({ runAsNonRoot: true, runAsUser: 1000 }))).toEqual({ runAsUser: { value: 1000 } });
      const [pod, c] = nonRoot({ runAsNonRoot: true });
      expect(needsImageUser(pod, c)).toBe(true);
      expect(containerSecurityContext(pod, c, { uid: 1000 })).toEqual({});
    });

    it('refuses runAsUser 0, a root image, an image without a user, and a named image user', () => {
      expect(() => containerSecurityContext(...nonRoot({ runAsNonRoot: true, runAsUser: 0 }))).toThrow(/runAsUser 0 breaks its runAsNonRoot policy/);
      const [pod, c] = nonRoot({ runAsNonRoot: true });
      expect(() => containerSecurityContext(pod, c, { uid: 0 })).toThrow(ContainerConfigError);
      expect(() => containerSecurityContext(pod, c, {})).toThrow(/runAsNonRoot but its image runs as root \(uid 0\).*container: app/);
      expect(() => containerSecurityContext(pod, c, { username: 'app' })).toThrow(/non-numeric user "app"/);
    });

    it('takes the container\'s runAsNonRoot and runAsUser over the pod\'s', () => {
      expect(containerSecurityContext(...nonRoot({ runAsNonRoot: true }, { runAsNonRoot: false }), {})).toEqual({});
      expect(() => containerSecurityContext(...nonRoot({ runAsUser: 0 }, { runAsNonRoot: true }))).toThrow(ContainerConfigError);
      expect(containerSecurityContext(...nonRoot({ runAsNonRoot: true, runAsUser: 0 }, { runAsUser: 5 }))).toEqual({ runAsUser: { value: 5 } });
    });

    it('keeps the container waiting with CreateContainerConfigError, without creating it or starting a crash loop', async () => {
      const cri = new FakeCriRuntime();
      const [pod] = nonRoot({ runAsNonRoot: true });
      const out = await executeActions([
        { type: 'runContainer', sandboxId: 'sb-1', sandboxAttempt: 0, container: 'app', attempt: 0, restartCount: 0, image: 'busybox', init: false },
      ], { cri, pod, sandbox: { podLogsRoot: '/l' }, log: pino({ level: 'silent' }), now: () => 0 });
      expect(out.failures.containers?.app).toEqual({ reason: 'CreateContainerConfigError', message: expect.stringMatching(/image runs as root/) as unknown as string });
      expect(out.events).toEqual([]);
      expect(cri.calls).toEqual(['imageStatus']);
    });

    it('shows CreateContainerConfigError on every sync and tries again a few seconds later, never as a crash loop', async () => {
      const cri = new FakeCriRuntime();
      const [pod] = nonRoot({ runAsNonRoot: true });
      const input = { pod, uid: 'uid-1', observed: observed({ sandboxes: [sandboxObs()] }), backoff: emptyBackoff(), now: 0 };
      for (let sync = 0; sync < 3; sync++) {
        const first = reconcilePod(input);
        expect(first.actions).toEqual([expect.objectContaining({ type: 'runContainer', container: 'app' })]);
        const out = await executeActions(first.actions, { cri, pod, sandbox: { podLogsRoot: '/l' }, log: pino({ level: 'silent' }), now: () => 0 });
        expect(out.events).toEqual([]);
        const after = reconcilePod({ ...input, failures: out.failures });
        expect(after.actions).toEqual([]);
        expect(after.events).toEqual([]);
        expect(after.requeueAfterMs).toBe(CONFIG_RETRY_MS);
        expect(after.status.phase).toBe('Pending');
        expect(after.status.containerStatuses?.[0].state.waiting).toEqual({
          reason: 'CreateContainerConfigError', message: expect.stringMatching(/runAsNonRoot but its image runs as root/) as unknown as string,
        });
      }
      expect(cri.calls.filter((c) => c === 'createContainer')).toEqual([]);
    });
  });
});
