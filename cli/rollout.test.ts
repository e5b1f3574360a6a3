import type { Deployment } from '../messages';
import { deploymentTarget, parseImages, rolloutState } from './rollout';

const d = (status: Deployment['status'], generation = 2, replicas = 3): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', generation },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'c', image: 'x' }] } } },
  status,
});

describe('rolloutState', () => {
  it('says kubectl\'s messages at each stage', () => {
    expect(rolloutState(d({ observedGeneration: 1 })).message).toBe('Waiting for deployment spec update to be observed...');
    expect(rolloutState(d({ observedGeneration: 2, updatedReplicas: 1, replicas: 4 })).message)
      .toBe('Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...');
    expect(rolloutState(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 4 })).message)
      .toBe('Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
    expect(rolloutState(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 1 })).message)
      .toBe('Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...');
    expect(rolloutState(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 })))
      .toEqual({ done: true, failed: false, message: 'deployment "web" successfully rolled out' });
  });
  it('fails on ProgressDeadlineExceeded', () => {
    const s = rolloutState(d({ observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }));
    expect(s).toEqual({ done: false, failed: true, message: 'deployment "web" exceeded its progress deadline' });
  });
});

describe('arguments', () => {
  it('takes one deployment in either form', () => {
    expect(deploymentTarget(['deploy/web'], undefined)).toEqual({ name: 'web', namespace: 'default' });
    expect(deploymentTarget(['deployment', 'web'], 'prod')).toEqual({ name: 'web', namespace: 'prod' });
    expect(() => deploymentTarget(['rs/web'], undefined)).toThrow('replicasets have no rollout in mk: only deployments do');
    expect(() => deploymentTarget(['deploy/a', 'deploy/b'], undefined)).toThrow('give exactly one deployment');
  });
  it('parses CONTAINER=IMAGE pairs and refuses others', () => {
    expect(parseImages(['web=nginx:1.27', '*=busybox'])).toEqual(new Map([['web', 'nginx:1.27'], ['*', 'busybox']]));
    expect(() => parseImages(['web'])).toThrow('"web" is not CONTAINER=IMAGE');
    expect(() => parseImages([])).toThrow('give at least one CONTAINER=IMAGE');
  });
});
