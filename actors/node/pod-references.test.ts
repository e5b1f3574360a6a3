import type { Pod } from '../../messages';
import { podReferences } from './pod-references';

describe('podReferences', () => {
  it('collects env, envFrom and imagePullSecrets of every container', () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: {
        imagePullSecrets: [{ name: 'reg' }],
        initContainers: [{ name: 'i', image: 'x', envFrom: [{ configMapRef: { name: 'init-cm' } }] }],
        containers: [{
          name: 'c', image: 'x',
          env: [
            { name: 'A', value: 'plain' },
            { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
            { name: 'C', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } },
            { name: 'D', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          envFrom: [{ secretRef: { name: 'all' } }],
        }],
      },
    };
    const r = podReferences(pod);
    expect([...r.configmaps].sort()).toEqual(['cm', 'init-cm']);
    expect([...r.secrets].sort()).toEqual(['all', 'reg', 'sec']);
  });

  it('collects the ConfigMaps, Secrets and claims that volumes name, and nothing for other sources', () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: {
        containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'conf', mountPath: '/etc/app' }] }],
        volumes: [
          { name: 'conf', configMap: { name: 'app-config', items: [{ key: 'k', path: 'k' }] } },
          { name: 'creds', secret: { secretName: 'app-secret', optional: true } },
          { name: 'cache', emptyDir: {} },
          { name: 'info', downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } },
          { name: 'data', persistentVolumeClaim: { claimName: 'not-a-secret' } },
          { name: 'more', persistentVolumeClaim: { claimName: 'logs', readOnly: true } },
        ],
      },
    };
    const r = podReferences(pod);
    expect([...r.configmaps]).toEqual(['app-config']);
    expect([...r.secrets]).toEqual(['app-secret']);
    expect([...r.persistentvolumeclaims]).toEqual(['not-a-secret', 'logs']);
  });

  it('gives a pod without volumes no claims', () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    expect(podReferences(pod).persistentvolumeclaims.size).toBe(0);
  });
});

