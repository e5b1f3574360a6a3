import { threeWayMerge } from './three-way';

const pod = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec, ...extra });

describe('threeWayMerge (kubectl client-side apply)', () => {
  it('removes a field dropped from the configuration and keeps what others set', () => {
    const original = pod({ restartPolicy: 'Never', hostname: 'h', containers: [{ name: 'c', image: 'busybox' }] });
    const modified = pod({ restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] });
    const current = pod(
      { restartPolicy: 'Never', hostname: 'h', nodeName: 'n1', containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent' }] },
      { status: { phase: 'Running' } },
    );
    expect(threeWayMerge(original, modified, current)).toEqual(pod(
      { restartPolicy: 'Never', nodeName: 'n1', containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent' }] },
      { status: { phase: 'Running' } },
    ));
  });

  it('keeps a field only the live object has when nothing was recorded before', () => {
    const modified = pod({ containers: [{ name: 'c', image: 'b' }] });
    const current = pod({ hostname: 'h', containers: [{ name: 'c', image: 'a' }] });
    expect(threeWayMerge(undefined, modified, current)).toEqual(pod({ hostname: 'h', containers: [{ name: 'c', image: 'b' }] }));
  });

  it('takes the configuration over a value someone else changed', () => {
    const original = pod({ containers: [{ name: 'c', image: 'a' }] }, { metadata: { name: 'web', labels: { app: 'x' } } });
    const modified = original;
    const current = pod({ containers: [{ name: 'c', image: 'changed' }] }, { metadata: { name: 'web', labels: { app: 'y', team: 't' } } });
    expect(threeWayMerge(original, modified, current)).toEqual(pod({ containers: [{ name: 'c', image: 'a' }] }, { metadata: { name: 'web', labels: { app: 'x', team: 't' } } }));
  });

  it('merges containers, env and ports by key and drops the items applied before and removed now', () => {
    const original = pod({
      containers: [
        { name: 'a', image: 'i', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], ports: [{ containerPort: 80 }, { containerPort: 81 }] },
        { name: 'old', image: 'i' },
      ],
    });
    const modified = pod({
      containers: [
        { name: 'new', image: 'j' },
        { name: 'a', image: 'i', env: [{ name: 'X', value: '3' }], ports: [{ containerPort: 80, name: 'http' }] },
      ],
    });
    const current = pod({
      containers: [
        { name: 'a', image: 'i', imagePullPolicy: 'Always', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }, { name: 'Z', value: 'others' }],
          ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81, protocol: 'TCP' }] },
        { name: 'old', image: 'i' },
        { name: 'sidecar', image: 's' },
      ],
    });
    expect(threeWayMerge(original, modified, current)).toEqual(pod({
      containers: [
        { name: 'new', image: 'j' },
        { name: 'a', image: 'i', imagePullPolicy: 'Always', env: [{ name: 'X', value: '3' }, { name: 'Z', value: 'others' }],
          ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }] },
        { name: 'sidecar', image: 's' },
      ],
    }));
  });

  it('replaces lists without a merge key wholesale', () => {
    const original = pod({ containers: [{ name: 'c', image: 'i', command: ['sh', '-c', 'a'] }], tolerations: [{ key: 'a' }] });
    const modified = pod({ containers: [{ name: 'c', image: 'i', command: ['sleep'] }], tolerations: [{ key: 'b' }] });
    const current = pod({ containers: [{ name: 'c', image: 'i', command: ['sh', '-c', 'a'] }], tolerations: [{ key: 'a' }, { key: 'z' }] });
    expect(threeWayMerge(original, modified, current)).toEqual(modified);
  });

  it('removes a field set to null in the configuration', () => {
    const current = pod({ hostname: 'h', containers: [] });
    expect(threeWayMerge(undefined, pod({ hostname: null, containers: [] }), current)).toEqual(pod({ containers: [] }));
  });

  it('changes none of its arguments', () => {
    const original = pod({ a: { b: 1 }, containers: [{ name: 'c', env: [{ name: 'X' }] }] });
    const modified = pod({ containers: [{ name: 'c', env: [{ name: 'Y' }] }] });
    const current = pod({ a: { b: 1 }, containers: [{ name: 'c', env: [{ name: 'X' }] }] });
    const copies = structuredClone([original, modified, current]);
    threeWayMerge(original, modified, current);
    expect([original, modified, current]).toEqual(copies);
  });
});
