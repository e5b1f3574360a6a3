import { isValidation } from '../errors';
import { applyStrategicPatch } from './strategic-patch';

const pod = () => ({
  metadata: { name: 'web', labels: { app: 'web', tier: 't' } },
  spec: {
    containers: [
      { name: 'a', image: 'busybox', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80, protocol: 'TCP' }], command: ['sh'] },
      { name: 'b', image: 'busybox' },
    ],
    tolerations: [{ key: 'x' }],
  },
});

describe('applyStrategicPatch', () => {
  it('merges a container by name instead of replacing the list, leaving the input unchanged', () => {
    const input = pod();
    const out = applyStrategicPatch(input, { spec: { containers: [{ name: 'a', image: 'busybox:1.36' }] } }) as ReturnType<typeof pod>;
    expect(out.spec.containers).toEqual([{ ...pod().spec.containers[0], image: 'busybox:1.36' }, { name: 'b', image: 'busybox' }]);
    expect(input).toEqual(pod());
  });

  it('adds new items, deletes with $patch: delete, merges ports by containerPort, replaces other lists', () => {
    const out = applyStrategicPatch(pod(), {
      metadata: { labels: { tier: null } },
      spec: {
        containers: [{ name: 'b', $patch: 'delete' }, { name: 'c', image: 'x' }, { name: 'a', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81 }], command: ['sleep'] }],
        tolerations: [{ key: 'y' }],
      },
    }) as ReturnType<typeof pod>;
    expect(out.metadata.labels).toEqual({ app: 'web' });
    expect(out.spec.containers).toEqual([
      { name: 'a', image: 'busybox', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 81 }], command: ['sleep'] },
      { name: 'c', image: 'x' },
    ]);
    expect(out.spec.tolerations).toEqual([{ key: 'y' }]);
  });

  it('replaces a map marked $patch: replace', () => {
    expect(applyStrategicPatch({ a: { x: 1, y: 2 } }, { a: { $patch: 'replace', z: 3 } })).toEqual({ a: { z: 3 } });
  });

  it('removes a map marked $patch: delete', () => {
    expect(applyStrategicPatch({ a: { x: 1 }, b: 2 }, { a: { $patch: 'delete' } })).toEqual({ b: 2 });
  });

  it('replaces a merging list holding {"$patch": "replace"} with its other items', () => {
    const out = applyStrategicPatch(pod(), { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } }) as ReturnType<typeof pod>;
    expect(out.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('merges env by name, keeping the variables it does not name', () => {
    const target = { spec: { containers: [{ name: 'a', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }] } };
    const out = applyStrategicPatch(target, { spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '3' }, { name: 'A', $patch: 'delete' }] }] } });
    expect(out).toEqual({ spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '3' }] }] } });
  });

  it.each([
    [{ spec: { $retainKeys: ['a'] } }, 'spec: the strategic merge directive "$retainKeys" is not supported'],
    [{ spec: { containers: [{ image: 'x' }] } }, 'spec.containers[0]: each item must be a map with "name"'],
    [{ spec: { containers: [{ name: 'a', $patch: 'merge' }] } }, 'unknown $patch "merge"'],
  ])('refuses %j', (patch, message) => {
    let err: unknown;
    try {
      applyStrategicPatch(pod(), patch);
    } catch (e) {
      err = e;
    }
    expect(isValidation(err)).toBe(true);
    expect((err as Error).message).toContain(message);
  });
});
