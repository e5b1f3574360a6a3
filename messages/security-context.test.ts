import fs from 'node:fs';
import { load } from 'js-yaml';
import { isValidation, type ValidationError } from './errors';
import { validateManifest } from './manifest';

const pod = (podSc?: Record<string, unknown>, containerSc?: Record<string, unknown>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
  spec: {
    ...(podSc ? { securityContext: podSc } : {}),
    containers: [{ name: 'c', image: 'busybox', ...(containerSc ? { securityContext: containerSc } : {}) }],
  },
});

const issues = (doc: unknown): string[] => {
  try {
    validateManifest(doc);
  } catch (e) {
    if (isValidation(e)) return (e as ValidationError).issues;
    throw e;
  }
  throw new Error('accepted');
};

describe('securityContext validation', () => {
  it('accepts every supported field of the pod and the container', () => {
    expect(() => validateManifest(pod({
      runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true, fsGroup: 2000, supplementalGroups: [4000],
      sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }, { name: 'kernel.shm_rmid_forced', value: '1' }],
      seccompProfile: { type: 'Localhost', localhostProfile: 'audit.json' },
    }, {
      runAsUser: 1001, runAsGroup: 1002, runAsNonRoot: false, privileged: false, readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN', 'CAP_CHOWN'], drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' }, procMount: 'Default',
    }))).not.toThrow();
  });

  it('refuses unsafe and duplicate sysctls, naming the allowed ones', () => {
    const found = issues(pod({ sysctls: [{ name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'net.ipv4.tcp_syncookies', value: '0' }] }));
    expect(found).toEqual([
      expect.stringMatching(/^spec\.securityContext\.sysctls\[0\]\.name: sysctl "kernel\.msgmax" is not allowed: .*net\.ipv4\.ip_local_port_range/),
      expect.stringMatching(/sysctls\[2\]\.name: duplicate sysctl "net\.ipv4\.tcp_syncookies"/),
    ]);
  });

  it('refuses unknown capability names', () => {
    expect(issues(pod(undefined, { capabilities: { add: ['NET_ADMN'], drop: ['ALL', 'CAP_'] } }))).toEqual([
      expect.stringMatching(/capabilities\.add\[0\]: unknown capability "NET_ADMN"/),
      expect.stringMatching(/capabilities\.drop\[1\]: unknown capability "CAP_"/),
    ]);
    // Kubernetes manifests write them in either case; the runtime reads them upper case.
    expect(() => validateManifest(pod(undefined, { capabilities: { add: ['net_bind_service'], drop: ['all'] } }))).not.toThrow();
  });

  it('refuses allowPrivilegeEscalation false beside privileged or SYS_ADMIN, as Kubernetes does', () => {
    expect(issues(pod(undefined, { allowPrivilegeEscalation: false, privileged: true }))).toEqual([
      expect.stringMatching(/allowPrivilegeEscalation: allowPrivilegeEscalation cannot be false when privileged is true/),
    ]);
    expect(issues(pod(undefined, { allowPrivilegeEscalation: false, capabilities: { add: ['CAP_SYS_ADMIN'] } }))).toEqual([
      expect.stringMatching(/cannot be false when capabilities\.add has SYS_ADMIN/),
    ]);
  });

  it('checks seccomp profiles: localhostProfile with Localhost only, relative and inside the directory', () => {
    expect(issues(pod({ seccompProfile: { type: 'Localhost' } }))).toEqual([expect.stringMatching(/localhostProfile is required when type is Localhost/)]);
    expect(issues(pod(undefined, { seccompProfile: { type: 'RuntimeDefault', localhostProfile: 'a.json' } })))
      .toEqual([expect.stringMatching(/localhostProfile may only be set when type is Localhost/)]);
    expect(issues(pod({ seccompProfile: { type: 'Localhost', localhostProfile: '../etc/x.json' } }))).toEqual([expect.stringMatching(/must be a path relative/)]);
    expect(issues(pod({ seccompProfile: { type: 'Strict' } })).join()).toMatch(/seccompProfile\.type/);
  });

  it('refuses what the node cannot enforce: SELinux, AppArmor, Windows options, an unmasked /proc', () => {
    expect(issues(pod({ seLinuxOptions: { level: 's0:c1' }, appArmorProfile: { type: 'RuntimeDefault' } }, { procMount: 'Unmasked', windowsOptions: {} }))).toEqual([
      expect.stringMatching(/containers\[0\]\.securityContext\.windowsOptions: windowsOptions is not supported/),
      expect.stringMatching(/procMount: procMount Unmasked is not supported/),
      expect.stringMatching(/^spec\.securityContext\.seLinuxOptions: seLinuxOptions is not supported: mk nodes run containerd without SELinux/),
      expect.stringMatching(/^spec\.securityContext\.appArmorProfile: appArmorProfile is not supported/),
    ]);
  });

  it('refuses negative or fractional ids and unknown fields', () => {
    expect(issues(pod({ runAsUser: -1, fsGroup: 1.5 })).join('\n')).toMatch(/runAsUser must not be negative[\s\S]*fsGroup must be a whole number/);
    expect(issues(pod({ supplementalGroupsPolicy: 'Merge' })).join()).toMatch(/supplementalGroupsPolicy/);
    expect(() => issues(pod({ fsGroupChangePolicy: 'OnRootMismatch' }))).toThrow('accepted');
    expect(issues(pod({ fsGroupChangePolicy: 'Sometimes' })).join()).toMatch(/fsGroupChangePolicy/);
  });
});

describe('examples/security-context.yaml', () => {
  it('is a valid pod with a pod and a container securityContext', () => {
    const { object } = validateManifest(load(fs.readFileSync(`${__dirname}/../examples/security-context.yaml`, 'utf8')));
    const spec = (object as { spec: { securityContext?: unknown; containers: { securityContext?: unknown }[] } }).spec;
    expect(spec.securityContext).toMatchObject({ runAsUser: 1000, runAsNonRoot: true });
    expect(spec.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });
});
