import { applyTaintChanges, isTaintSpec, parseTaintSpecs, planDrain } from '../../../cli/node-ops';
import type { Node, Pod } from '../../../messages';

const caught = (fn: () => unknown): Error | undefined => { try { fn(); } catch (e) { return e as Error; } return undefined; };
const node = (taints?: Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: taints ? { taints } : {},
});

describe('taint specs', () => {
  it('parses additions and removals like kubectl', () => {
    expect(parseTaintSpecs(['dedicated=gpu:NoSchedule', 'example.com/maint:NoExecute', 'a:PreferNoSchedule-', 'b-'])).toEqual([
      { op: 'add', taint: { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' } },
      { op: 'add', taint: { key: 'example.com/maint', effect: 'NoExecute' } },
      { op: 'remove', key: 'a', effect: 'PreferNoSchedule' },
      { op: 'remove', key: 'b' },
    ]);
    expect(['n1', 'k=v:NoSchedule', 'k-', 'k:NoSchedule'].map(isTaintSpec)).toEqual([false, true, true, true]);
  });

  it('names what is wrong with a bad effect, key or value', () => {
    expect(caught(() => parseTaintSpecs(['k=v:Sometimes']))?.message).toBe(
      'invalid taint spec "k=v:Sometimes": unsupported taint effect "Sometimes": must be one of NoSchedule, PreferNoSchedule, NoExecute',
    );
    expect(caught(() => parseTaintSpecs(['k=v']))?.message).toMatch(/^invalid taint spec "k=v": an effect is required/);
    expect(caught(() => parseTaintSpecs(['-bad=v:NoSchedule']))?.message).toMatch(/^invalid taint spec "-bad=v:NoSchedule": invalid key "-bad"/);
    expect(caught(() => parseTaintSpecs(['Bad_Prefix/k=v:NoSchedule']))?.message).toMatch(/prefix "Bad_Prefix" must be a DNS subdomain/);
    expect(caught(() => parseTaintSpecs(['k=v v:NoSchedule']))?.message).toMatch(/invalid value "v v"/);
    expect(caught(() => parseTaintSpecs(['k=v:NoSchedule', 'k:NoSchedule-']))?.message).toMatch(/can not both modify and remove/);
  });

  it('adds, refuses a duplicate key and effect unless overwriting, and removes by key or key and effect', () => {
    const n = node([{ key: 'k', value: 'a', effect: 'NoSchedule' }, { key: 'k', effect: 'NoExecute', timeAdded: 't' }]);
    expect(caught(() => applyTaintChanges(n, parseTaintSpecs(['k=b:NoSchedule']), false))?.message).toBe(
      'node n1 already has k taint(s) with same effect(s) and --overwrite is false',
    );
    expect(applyTaintChanges(n, parseTaintSpecs(['k=b:NoSchedule']), true)).toEqual({
      taints: [{ key: 'k', value: 'b', effect: 'NoSchedule' }, { key: 'k', effect: 'NoExecute', timeAdded: 't' }], verb: 'tainted',
    });
    expect(applyTaintChanges(n, parseTaintSpecs(['k:NoExecute-']), false)).toEqual({ taints: [{ key: 'k', value: 'a', effect: 'NoSchedule' }], verb: 'untainted' });
    expect(applyTaintChanges(n, parseTaintSpecs(['k-']), false)).toEqual({ taints: [], verb: 'untainted' });
    expect(caught(() => applyTaintChanges(n, parseTaintSpecs(['other-']), false))?.message).toBe('taint "other" not found on node n1');
  });
});

describe('drain plan', () => {
  const pod = (name: string, extra: { owner?: string; phase?: string; emptyDir?: boolean } = {}): Pod => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', ...(extra.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: extra.owner, name: 'o', uid: 'u', controller: true }] } : {}) },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }], ...(extra.emptyDir ? { volumes: [{ name: 'v', emptyDir: {} }] } : {}) },
    status: { phase: (extra.phase ?? 'Running') as 'Running' },
  });
  const none = { force: false, ignoreDaemonsets: false, deleteEmptydirData: false };

  it('evicts managed and finished pods, refuses unmanaged, DaemonSet and emptyDir pods', () => {
    const plan = planDrain([pod('rs', { owner: 'ReplicaSet' }), pod('done', { phase: 'Succeeded' }), pod('bare'), pod('ds', { owner: 'DaemonSet' }), pod('cache', { owner: 'ReplicaSet', emptyDir: true })], none);
    expect(plan.evict.map((p) => p.metadata.name)).toEqual(['rs', 'done']);
    expect(plan.errors).toEqual([
      'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds',
      'cannot delete Pods that declare no controller (use --force to override): default/bare',
      'cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache',
    ]);
  });

  it('goes past each refusal with its flag, with a warning, leaving DaemonSet pods running', () => {
    const plan = planDrain([pod('bare'), pod('ds', { owner: 'DaemonSet' }), pod('cache', { owner: 'ReplicaSet', emptyDir: true })], { force: true, ignoreDaemonsets: true, deleteEmptydirData: true });
    expect(plan.errors).toEqual([]);
    expect(plan.evict.map((p) => p.metadata.name)).toEqual(['bare', 'cache']);
    expect(plan.warnings).toEqual([
      'Warning: ignoring DaemonSet-managed Pods: default/ds',
      'Warning: deleting Pods that declare no controller: default/bare',
      'Warning: deleting Pods with local storage: default/cache',
    ]);
  });
});
