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
});

describe('podReferences and volumes', () => {
  it('collects the ConfigMaps and Secrets of configMap and secret volumes', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: {
        containers: [{ name: 'c', image: 'x' }],
        volumes: [{ name: 'a', configMap: { name: 'vol-cm' } }, { name: 'b', secret: { secretName: 'vol-sec' } }, { name: 'c', emptyDir: {} }],
      },
    } as unknown as Pod;
    const r = podReferences(pod);
    expect([...r.configmaps]).toEqual(['vol-cm']);
    expect([...r.secrets]).toEqual(['vol-sec']);
  });
});
