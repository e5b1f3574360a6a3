import { DescribeWriter } from './describe-writer';
import { writeMounts, writeVolumes } from './describe-volumes';
import { describePod } from './describe-pod';
import { describeReplicaSet } from './describe-replicaset';
import type { Pod } from '../pod';
import type { ReplicaSet } from '../replicaset';
import type { Volume, VolumeMount } from '../volumes';

const mounts = (m: VolumeMount[] | undefined): string => {
  const w = new DescribeWriter();
  writeMounts(w, 2, m);
  return w.toString();
};
const volumes = (v: Volume[] | undefined): string => {
  const w = new DescribeWriter();
  writeVolumes(w, 0, v);
  return w.toString();
};

describe('describe volumes and mounts', () => {
  it('prints mounts by path with rw, ro and the subPath, <none> without any', () => {
    expect(mounts(undefined)).toBe('    Mounts:\t<none>\n');
    expect(mounts([])).toBe('    Mounts:\t<none>\n');
    expect(mounts([
      { name: 'cache', mountPath: '/data' },
      { name: 'conf', mountPath: '/etc/app', readOnly: true },
      { name: 'vol', mountPath: '/b', subPath: 'sub' },
      { name: 'vol', mountPath: '/a', readOnly: true, subPath: 'x y' },
    ])).toBe('    Mounts:\n'
      + '      /a from vol (ro,path="x y")\n'
      + '      /b from vol (rw,path="sub")\n'
      + '      /data from cache (rw)\n'
      + '      /etc/app from conf (ro)\n');
  });

  it('prints each volume with its type and fields, as kubectl does', () => {
    expect(volumes(undefined)).toBe('Volumes:\t<none>\n');
    expect(volumes([
      { name: 'cache', emptyDir: {} },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'logs', hostPath: { path: '/var/log', type: 'Directory' } },
      { name: 'raw', hostPath: { path: '/x' } },
      { name: 'conf', configMap: { name: 'app', optional: true } },
      { name: 'creds', secret: { secretName: 'db', items: [{ key: 'password', path: 'pw' }] } },
      { name: 'info', downwardAPI: { items: [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } },
      ] } },
      { name: 'data', persistentVolumeClaim: { claimName: 'claim' } },
    ])).toBe('Volumes:\n'
      + '  cache:\n'
      + "    Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t\n    SizeLimit:\t<unset>\n"
      + '  mem:\n'
      + "    Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\tMemory\n    SizeLimit:\t64Mi\n"
      + '  logs:\n    Type:\tHostPath (bare host directory volume)\n    Path:\t/var/log\n    HostPathType:\tDirectory\n'
      + '  raw:\n    Type:\tHostPath (bare host directory volume)\n    Path:\t/x\n    HostPathType:\t<none>\n'
      + '  conf:\n    Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\tapp\n    Optional:\ttrue\n'
      + '  creds:\n    Type:\tSecret (a volume populated by a Secret)\n    SecretName:\tdb\n    Optional:\tfalse\n'
      + '  info:\n    Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n'
      + '      metadata.labels -> labels\n      limits.cpu -> cpu\n'
      + '  data:\n    Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n'
      + '    ClaimName:\tclaim\n    ReadOnly:\tfalse\n');
  });

  it('puts Volumes after the conditions and mounts under each container of a pod, never a secret\'s data', () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: {
        initContainers: [{ name: 'i', image: 'busybox' }],
        containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'creds', mountPath: '/run/creds', readOnly: true }] }],
        volumes: [{ name: 'creds', secret: { secretName: 'db' } }],
      },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const text = describePod(pod);
    expect(text).toContain('Init Containers:\n  i:\n');
    expect(text).toMatch(/ {2}i:\n(?: {4}.*\n)* {4}Mounts:\t<none>\nContainers:/);
    expect(text).toMatch(/ {4}Mounts:\n {6}\/run\/creds from creds \(ro\)\n/);
    expect(text).toMatch(/ {2}Ready \tTrue \nVolumes:\n {2}creds:\n {4}Type:\tSecret \(a volume populated by a Secret\)\n {4}SecretName:\tdb\n(?:.*\n)?QoS Class:/);
    expect(text).not.toMatch(/password|data:/);
  });

  it('shows mounts and volumes in pod templates', () => {
    const rs = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r', namespace: 'default' },
      spec: {
        replicas: 1, selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }], volumes: [{ name: 'cache', emptyDir: {} }] },
        },
      },
    } as ReplicaSet;
    const text = describeReplicaSet(rs, [], undefined);
    expect(text).toMatch(/ {6}Mounts:\n {8}\/cache from cache \(rw\)\n {2}Volumes:\n {4}cache:\n {6}Type:\tEmptyDir/);
  });
});
