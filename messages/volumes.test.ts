import { validateManifest } from './manifest';
import { defaultPod, type Pod } from './pod';
import { localPathError, projectedPathError, type Volume, type VolumeMount } from './volumes';

type Obj = Record<string, unknown>;
const pod = (volumes: Obj[], mounts: Obj[] = [], extra: Obj = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
  spec: { containers: [{ name: 'c', image: 'busybox', volumeMounts: mounts }], volumes, ...extra },
});
const ok = (doc: unknown) => expect(() => validateManifest(doc)).not.toThrow();
const bad = (doc: unknown, re: RegExp) => expect(() => validateManifest(doc)).toThrow(re);
const vol = (source: Obj, name = 'v') => pod([{ name, ...source }]);

describe('pod volumes', () => {
  it('accepts every source mk supports, mounted by name', () => {
    ok(pod([
      { name: 'cache', emptyDir: {} },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'logs', hostPath: { path: '/var/log', type: 'DirectoryOrCreate' } },
      { name: 'conf', configMap: { name: 'app', items: [{ key: 'a', path: 'conf/a.conf', mode: 0o400 }], defaultMode: 0o644, optional: true } },
      { name: 'creds', secret: { secretName: 's', items: [{ key: 'k', path: 'k' }], defaultMode: 0 } },
      { name: 'info', downwardAPI: { items: [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'app', fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['app']" } },
        { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' }, mode: 0o777 },
      ] } },
      { name: 'data', persistentVolumeClaim: { claimName: 'claim', readOnly: true } },
    ], [
      { name: 'cache', mountPath: '/cache' },
      { name: 'conf', mountPath: '/etc/app', readOnly: true },
      { name: 'data', mountPath: '/data', subPath: 'sub/dir' },
      { name: 'logs', mountPath: '/logs', subPathExpr: '$(POD_NAME)' },
    ]));
  });

  it('wants volume names to be unique DNS-1123 labels', () => {
    bad(pod([{ name: 'a', emptyDir: {} }, { name: 'a', emptyDir: {} }]), /spec\.volumes\[1\]\.name: Duplicate value: "a"/);
    bad(vol({ emptyDir: {} }, 'Bad_Name'), /spec\.volumes\[0\]\.name: invalid name "Bad_Name"/);
    bad(vol({ emptyDir: {} }, ''), /spec\.volumes\[0\]\.name: invalid name "": must not be empty/);
    ok(pod([{ name: 'a', emptyDir: {} }, { name: 'b', emptyDir: {} }]));
  });

  it('wants exactly one source per volume', () => {
    bad(vol({}), /spec\.volumes\[0\]: Required value: must specify a volume type/);
    bad(vol({ emptyDir: {}, configMap: { name: 'c' } }), /spec\.volumes\[0\]\.configMap: Forbidden: may not specify more than 1 volume type/);
    ok(vol({ configMap: { name: 'c' } }));
  });

  it('refuses sources mk does not support by name', () => {
    bad(vol({ nfs: { server: 'x', path: '/' } }), /unknown field "spec\.volumes\[0\]\.nfs"/);
    bad(vol({ emptyDir: { medium: 'HugePages' } }), /spec\.volumes\[0\]\.emptyDir\.medium/);
  });

  it('keeps modes within 0..0777', () => {
    const mode = 'must be a number between 0 and 0777 \\(octal\\), both inclusive';
    bad(vol({ configMap: { name: 'c', defaultMode: 0o1000 } }), new RegExp(`configMap\\.defaultMode: Invalid value: 512: ${mode}`));
    bad(vol({ secret: { secretName: 's', defaultMode: -1 } }), new RegExp(`secret\\.defaultMode: Invalid value: -1: ${mode}`));
    bad(vol({ secret: { secretName: 's', items: [{ key: 'k', path: 'k', mode: 1000 }] } }), /secret\.items\[0\]\.mode: Invalid value: 1000/);
    bad(vol({ downwardAPI: { defaultMode: 0o7777 } }), /downwardAPI\.defaultMode: Invalid value: 4095/);
    bad(vol({ downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' }, mode: 512 }] } }), /downwardAPI\.items\[0\]\.mode: Invalid value: 512/);
    bad(vol({ configMap: { name: 'c', defaultMode: 1.5 } }), /configMap\.defaultMode/);
    ok(vol({ configMap: { name: 'c', defaultMode: 511, items: [{ key: 'k', path: 'k', mode: 0 }] } }));
  });

  it('wants item paths relative, without `..`, and unique', () => {
    bad(vol({ configMap: { name: 'c', items: [{ key: 'k', path: '/etc/k' }] } }), /configMap\.items\[0\]\.path: Invalid value: "\/etc\/k": must be a relative path/);
    bad(vol({ configMap: { name: 'c', items: [{ key: 'k', path: 'a/../../k' }] } }), /items\[0\]\.path: Invalid value: "a\/..\/..\/k": must not contain '..'/);
    bad(vol({ secret: { secretName: 's', items: [{ key: 'k', path: '..data' }] } }), /secret\.items\[0\]\.path: Invalid value: "..data": must not start with '..'/);
    bad(vol({ secret: { secretName: 's', items: [{ key: 'k', path: '' }] } }), /secret\.items\[0\]\.path: Required value/);
    bad(vol({ secret: { secretName: 's', items: [{ key: '', path: 'k' }] } }), /secret\.items\[0\]\.key: Required value/);
    bad(vol({ configMap: { name: 'c', items: [{ key: 'a', path: 'x' }, { key: 'b', path: 'x' }] } }),
      /configMap\.items\[1\]\.path: Invalid value: "x": conflicting duplicate paths/);
    bad(vol({ downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath: 'metadata.name' } }, { path: 'x', fieldRef: { fieldPath: 'metadata.uid' } }] } }),
      /downwardAPI\.items\[1\]\.path: Invalid value: "x": conflicting duplicate paths/);
    ok(vol({ configMap: { name: 'c', items: [{ key: 'a', path: 'x..y' }, { key: 'b', path: 'dir/y' }] } }));
  });

  it('wants the names of what a volume refers to', () => {
    bad(vol({ configMap: { name: '' } }), /configMap\.name: Required value/);
    bad(vol({ secret: { secretName: '' } }), /secret\.secretName: Required value/);
    bad(vol({ secret: {} }), /secret\.secretName/);
    bad(vol({ persistentVolumeClaim: { claimName: '' } }), /persistentVolumeClaim\.claimName: Required value/);
  });

  it('checks emptyDir sizeLimit and hostPath', () => {
    bad(vol({ emptyDir: { sizeLimit: 'lots' } }), /emptyDir\.sizeLimit: invalid quantity "lots"/);
    bad(vol({ emptyDir: { sizeLimit: '-1Gi' } }), /emptyDir\.sizeLimit: invalid quantity "-1Gi"/);
    ok(vol({ emptyDir: { sizeLimit: '1.5Gi' } }));
    bad(vol({ hostPath: { path: 'var/log' } }), /hostPath\.path: Invalid value: "var\/log": must be an absolute path/);
    bad(vol({ hostPath: { path: '' } }), /hostPath\.path: Required value/);
    bad(vol({ hostPath: { path: '/var/../etc' } }), /hostPath\.path: Invalid value: "\/var\/..\/etc": must not contain '..'/);
    bad(vol({ hostPath: { path: '/x', type: 'Pipe' } }), /hostPath\.type/);
    for (const type of ['', 'Directory', 'File', 'FileOrCreate', 'Socket', 'CharDevice', 'BlockDevice']) ok(vol({ hostPath: { path: '/x', type } }));
  });

  it('checks downward API files', () => {
    const file = (f: Obj) => vol({ downwardAPI: { items: [{ path: 'f', ...f }] } });
    bad(file({}), /downwardAPI\.items\[0\]: Required value: one of fieldRef and resourceFieldRef is required/);
    bad(file({ fieldRef: { fieldPath: 'metadata.name' }, resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } }),
      /downwardAPI\.items\[0\]: Invalid value: "resource": fieldRef and resourceFieldRef can not be specified simultaneously/);
    bad(file({ fieldRef: { fieldPath: 'status.podIP' } }), /items\[0\]\.fieldRef\.fieldPath: Unsupported value: "status.podIP"/);
    bad(file({ fieldRef: { fieldPath: 'spec.nodeName' } }), /Unsupported value: "spec.nodeName"/);
    bad(file({ resourceFieldRef: { resource: 'limits.cpu' } }), /items\[0\]\.resourceFieldRef\.containerName: Required value/);
    bad(file({ resourceFieldRef: { containerName: 'other', resource: 'limits.cpu' } }),
      /spec\.volumes\[0\]\.downwardAPI\.items\[0\]\.resourceFieldRef\.containerName: Not found: "other"/);
    bad(file({ resourceFieldRef: { containerName: 'c', resource: 'limits.gpu' } }), /resourceFieldRef\.resource/);
    bad(file({ resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: 'x' } }), /resourceFieldRef\.divisor: invalid quantity "x"/);
    bad(file({ fieldRef: { fieldPath: 'metadata.name', bogus: 1 } }), /unknown field "spec\.volumes\[0\]\.downwardAPI\.items\[0\]\.fieldRef\.bogus"/);
    bad(file({ resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', bogus: 1 } }), /unknown field ".*\.resourceFieldRef\.bogus"/);
    for (const fieldPath of ['metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.labels', 'metadata.annotations', "metadata.annotations['a/b']"]) {
      ok(file({ fieldRef: { fieldPath } }));
    }
    const byInit = file({ resourceFieldRef: { containerName: 'init', resource: 'requests.cpu', divisor: '1m' } });
    ok({ ...byInit, spec: { ...byInit.spec, initContainers: [{ name: 'init', image: 'busybox' }] } });
  });

  it('checks volume mounts against the pod and each other', () => {
    const cache = [{ name: 'cache', emptyDir: {} }];
    bad(pod(cache, [{ name: 'other', mountPath: '/x' }]), /spec\.containers\[0\]\.volumeMounts\[0\]\.name: Not found: "other"/);
    bad({ ...pod(cache), spec: { ...pod(cache).spec, initContainers: [{ name: 'i', image: 'b', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }] } },
      /spec\.initContainers\[0\]\.volumeMounts\[0\]\.name: Not found: "nope"/);
    bad(pod([], [{ name: 'cache', mountPath: '/x' }]), /volumeMounts\[0\]\.name: Not found: "cache"/);
    bad(pod(cache, [{ name: '', mountPath: '/x' }]), /volumeMounts\[0\]\.name: Required value/);
    bad(pod(cache, [{ name: 'cache', mountPath: 'rel' }]), /volumeMounts\[0\]\.mountPath: Invalid value: "rel": must be an absolute path/);
    bad(pod(cache, [{ name: 'cache', mountPath: '' }]), /volumeMounts\[0\]\.mountPath: Required value/);
    bad(pod(cache, [{ name: 'cache', mountPath: '/a' }, { name: 'cache', mountPath: '/a' }]),
      /spec\.containers\[0\]\.volumeMounts\[1\]\.mountPath: Invalid value: "\/a": must be unique/);
    bad(pod(cache, [{ name: 'cache', mountPath: '/a', subPath: 'x', subPathExpr: '$(X)' }]),
      /volumeMounts\[0\]\.subPathExpr: Invalid value: "\$\(X\)": subPathExpr and subPath are mutually exclusive/);
    bad(pod(cache, [{ name: 'cache', mountPath: '/a', subPath: '/abs' }]), /volumeMounts\[0\]\.subPath: Invalid value: "\/abs": must be a relative path/);
    bad(pod(cache, [{ name: 'cache', mountPath: '/a', subPath: 'a/..' }]), /volumeMounts\[0\]\.subPath: Invalid value: "a\/..": must not contain '..'/);
    bad(pod(cache, [{ name: 'cache', mountPath: '/a', subPathExpr: '../$(X)' }]), /volumeMounts\[0\]\.subPathExpr: .*must not contain '..'/);
    bad(pod(cache, [{ name: 'cache', mountPath: '/a', propagation: 'x' }]), /unknown field "spec\.containers\[0\]\.volumeMounts\[0\]\.propagation"/);
    // The same path in two containers, and one volume at two paths, are fine.
    ok({ ...pod(cache, [{ name: 'cache', mountPath: '/a' }, { name: 'cache', mountPath: '/b', readOnly: true }]) });
  });

  it('reaches pod templates: a ReplicaSet with a bad mount is refused', () => {
    const rs = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: pod([{ name: 'v', emptyDir: {} }], [{ name: 'w', mountPath: '/w' }]).spec },
      },
    };
    bad(rs, /spec\.template\.spec\.containers\[0\]\.volumeMounts\[0\]\.name: Not found: "w"/);
    ok({ ...rs, spec: { ...rs.spec, template: { ...rs.spec.template, spec: pod([{ name: 'w', emptyDir: {} }], [{ name: 'w', mountPath: '/w' }]).spec } } });
    const job = {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' },
      spec: { template: { spec: { ...pod([{ name: 'v' }]).spec, restartPolicy: 'Never' } } },
    };
    bad(job, /spec\.template\.spec\.volumes\[0\]: Required value: must specify a volume type/);
  });

  it('defaults the modes of projected files to 0644 and the hostPath type to ""', () => {
    const p = validateManifest(pod([
      { name: 'a', configMap: { name: 'c' } }, { name: 'b', secret: { secretName: 's', defaultMode: 0o400 } },
      { name: 'd', downwardAPI: {} }, { name: 'h', hostPath: { path: '/x' } }, { name: 'e', emptyDir: {} },
    ])).object as Pod;
    const v = defaultPod(p).spec.volumes!;
    expect(v.map((x) => x.configMap?.defaultMode ?? x.secret?.defaultMode ?? x.downwardAPI?.defaultMode ?? x.hostPath?.type))
      .toEqual([420, 256, 420, '', undefined]);
    expect(p.spec.volumes![0].configMap!.defaultMode).toBeUndefined();
    expect(defaultPod({ ...p, spec: { ...p.spec, volumes: undefined } }).spec).not.toHaveProperty('volumes');
  });

  it('tells local paths as Kubernetes does', () => {
    expect(localPathError('a/b')).toBeUndefined();
    expect(localPathError('..a')).toBeUndefined();
    expect(localPathError('/a')).toBe('must be a relative path');
    expect(localPathError('..')).toBe("must not contain '..'");
    expect(projectedPathError('..a')).toMatch(/must not start with/);
    expect(projectedPathError('a')).toBeUndefined();
  });
});

/** The shapes the node agent codes against; the inferred types must fit them both ways. */
interface ContractKeyToPath { key: string; path: string; mode?: number }
interface ContractVolume {
  name: string;
  emptyDir?: { medium?: '' | 'Memory'; sizeLimit?: string };
  hostPath?: { path: string; type?: '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice' };
  configMap?: { name: string; items?: ContractKeyToPath[]; defaultMode?: number; optional?: boolean };
  secret?: { secretName: string; items?: ContractKeyToPath[]; defaultMode?: number; optional?: boolean };
  downwardAPI?: {
    items?: {
      path: string; mode?: number;
      fieldRef?: { apiVersion?: string; fieldPath: string };
      resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
    }[];
    defaultMode?: number;
  };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}
interface ContractVolumeMount { name: string; mountPath: string; readOnly?: boolean; subPath?: string; subPathExpr?: string }
// Compile-time checks: each inferred type is assignable to the contract's.
const fitsVolume = (v: Volume): ContractVolume => v;
const fitsMount = (m: VolumeMount): ContractVolumeMount => m;
const fitsBack = (m: ContractVolumeMount): VolumeMount => m;
void [fitsVolume, fitsMount, fitsBack];
