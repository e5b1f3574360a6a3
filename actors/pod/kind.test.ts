import { isValidation, type KubeObject, type Pod } from '../../messages';
import { DEFAULT_SETTINGS } from '../settings';
import { podModule, withDefaultTolerations } from './kind';

const pod = (tolerations?: Pod['spec']['tolerations']): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }], ...(tolerations ? { tolerations } : {}) },
});

describe('default tolerations', () => {
  it('adds not-ready and unreachable NoExecute tolerations for 300 s', () => {
    expect(withDefaultTolerations(pod(), DEFAULT_SETTINGS).spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it('takes the configured seconds', () => {
    const out = withDefaultTolerations(pod(), { ...DEFAULT_SETTINGS, defaultNotReadyTolerationSeconds: 5, defaultUnreachableTolerationSeconds: 7 });
    expect(out.spec.tolerations?.map((t) => t.tolerationSeconds)).toEqual([5, 7]);
  });

  it('leaves a pod that already tolerates the taint as it is', () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 6000 };
    expect(withDefaultTolerations(pod([own]), DEFAULT_SETTINGS).spec.tolerations?.map((t) => t.key)).toEqual([own.key, 'node.kubernetes.io/not-ready']);
    expect(withDefaultTolerations(pod([{ operator: 'Exists' }]), DEFAULT_SETTINGS).spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(withDefaultTolerations(pod([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }]), DEFAULT_SETTINGS).spec.tolerations).toHaveLength(2);
  });

  it('lets an update add tolerations but not remove them', () => {
    const existing = withDefaultTolerations(pod(), DEFAULT_SETTINGS) as unknown as KubeObject;
    const more = pod([...(existing as unknown as Pod).spec.tolerations!, { key: 'k', operator: 'Exists' }]) as unknown as KubeObject;
    expect(() => podModule.admitUpdate!(existing, more)).not.toThrow();
    let err: unknown;
    try { podModule.admitUpdate!(more, existing); } catch (e) { err = e; }
    expect(isValidation(err)).toBe(true);
  });
});

describe('scheduling gates', () => {
  const gated = (...names: string[]): Pod => ({ ...pod(), spec: { ...pod().spec, schedulingGates: names.map((name) => ({ name })) } });
  const k = (p: Pod) => p as unknown as KubeObject;

  it('may be removed by an update, one or all', () => {
    expect((podModule.admitUpdate!(k(gated('a', 'b')), k(gated('b'))) as unknown as Pod).spec.schedulingGates).toEqual([{ name: 'b' }]);
    expect((podModule.admitUpdate!(k(gated('a')), k(pod())) as unknown as Pod).spec.schedulingGates).toBeUndefined();
  });

  it('may not be added after creation', () => {
    expect(() => podModule.admitUpdate!(k(gated('a')), k(gated('a', 'b'))))
      .toThrow('spec.schedulingGates: scheduling gates may only be removed after creation, not added ("b")');
    expect(() => podModule.admitUpdate!(k(pod()), k(gated('a')))).toThrow(/may only be removed/);
  });

  it('make the initial status say SchedulingGated', () => {
    const status = podModule.initialStatus!(k(gated('a'))) as Pod['status'];
    expect(status?.conditions).toEqual([expect.objectContaining({
      type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates',
    })]);
    expect((podModule.initialStatus!(k(pod())) as Pod['status'])?.conditions).toBeUndefined();
  });
});

describe('the placement of a gated pod', () => {
  const k = (p: Pod) => p as unknown as KubeObject;
  const term = (...keys: string[]) => ({ matchExpressions: keys.map((key) => ({ key, operator: 'Exists' as const })) });
  const placed = (gates: string[], nodeSelector?: Record<string, string>, terms?: ReturnType<typeof term>[]): Pod => ({
    ...pod(),
    spec: {
      ...pod().spec,
      ...(gates.length ? { schedulingGates: gates.map((name) => ({ name })) } : {}),
      ...(nodeSelector ? { nodeSelector } : {}),
      ...(terms ? { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } : {}),
    },
  });

  it('may narrow while gated: nodeSelector entries and node affinity requirements added', () => {
    expect(() => podModule.admitUpdate!(k(placed(['g'])), k(placed(['g'], { disk: 'ssd' }, [term('gpu')])))).not.toThrow();
    expect(() => podModule.admitUpdate!(k(placed(['g'], { disk: 'ssd' }, [term('gpu')])), k(placed([], { disk: 'ssd', zone: 'a' }, [term('gpu', 'fast')]))))
      .not.toThrow();
  });

  it('may not widen while gated, nor change at all once ungated', () => {
    expect(() => podModule.admitUpdate!(k(placed(['g'], { disk: 'ssd' })), k(placed(['g'], { disk: 'hdd' }))))
      .toThrow('spec.nodeSelector: entries may only be added while the pod is gated, not changed or removed ("disk")');
    expect(() => podModule.admitUpdate!(k(placed(['g'], undefined, [term('gpu', 'fast')])), k(placed(['g'], undefined, [term('gpu')]))))
      .toThrow(/nodeSelectorTerms\[0\]: requirements may only be added while the pod is gated/);
    expect(() => podModule.admitUpdate!(k(placed(['g'], undefined, [term('gpu')])), k(placed(['g'], undefined, [term('gpu'), term('x')]))))
      .toThrow(/its terms may only gain requirements while the pod is gated, not be added or removed/);
    expect(() => podModule.admitUpdate!(k(placed([])), k(placed([], { disk: 'ssd' })))).toThrow(/may not change fields other than container images/);
  });
});
