import { allKinds } from '../../../cli/kinds';
import { renderObjects } from '../../../cli/output/tables';
import { PodKind, type KubeObject } from '../../../messages';

describe('mk get all', () => {
  it('takes the namespaced workload kinds mk serves, pods first, and not events or cluster-scoped kinds', () => {
    const kinds = allKinds().map((k) => k.plural);
    expect(kinds[0]).toBe('pods');
    for (const k of ['events', 'nodes', 'namespaces']) expect(kinds).not.toContain(k);
  });
  it('writes names as kind/name', () => {
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Pending' } };
    const text = renderObjects(PodKind, [pod], { kindPrefix: true, now: 0 });
    expect(text.split('\n')[1]).toMatch(/^pod\/web\s+0\/1\s+Pending/);
  });
});
