import type { ControllerRevision, KubeObject, StatefulSet, UpdateRequest } from '../messages';
import type { Api } from './client';
import { setRolloutHistory, setRolloutUndo } from './rollout-history';

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });
const set = (image: string): StatefulSet => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: template(image) },
});
const rev = (image: string, revision: number, uid = 'u1', cause?: string): ControllerRevision => ({
  apiVersion: 'apps/v1', kind: 'ControllerRevision',
  metadata: {
    name: `web-${image}`, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid, controller: true }],
    ...(cause ? { annotations: { 'kubernetes.io/change-cause': cause } } : {}),
  },
  data: { spec: { template: { ...template(image), $patch: 'replace' } } }, revision,
});

/** An api that has `current` and `revisions`, and records updates. */
function fakeApi(current: StatefulSet, revisions: ControllerRevision[]): { api: Api; updates: KubeObject[] } {
  const updates: KubeObject[] = [];
  const api = {
    get: async () => current as unknown as KubeObject,
    list: async () => revisions as unknown as KubeObject[],
    update: async (req: UpdateRequest) => { updates.push(req.object as KubeObject); return { object: req.object }; },
  } as unknown as Api;
  return { api, updates };
}
const target = { name: 'web', namespace: 'default', plural: 'statefulsets' as const };
const run = async (fn: (io: { out(t: string): void }) => Promise<void>) => {
  let out = '';
  await fn({ out: (t) => { out += t; } });
  return out;
};

describe('setRolloutHistory', () => {
  it("lists the set's own revisions by number with their change-cause", async () => {
    const { api } = fakeApi(set('v2'), [rev('v2', 2, 'u1', 'bump'), rev('x', 5, 'other'), rev('v1', 1)]);
    expect(await run((io) => setRolloutHistory(api, target, undefined, io))).toMatch(/^statefulset\.apps\/web\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+bump\n$/);
  });
  it('prints one revision\'s template, and refuses one it does not have', async () => {
    const { api } = fakeApi(set('v2'), [rev('v1', 1), rev('v2', 2)]);
    expect(await run((io) => setRolloutHistory(api, target, 1, io))).toMatch(/^statefulset\.apps\/web with revision #1\nPod Template:\n\s+Labels:\s+app=web\n\s+Containers:\n\s+web:\n\s+Image:\s+v1\n$/);
    await expect(run((io) => setRolloutHistory(api, target, 3, io))).rejects.toThrow('unable to find the specified revision 3');
  });
  it('says so when there is no history', async () => {
    const { api } = fakeApi(set('v1'), []);
    expect(await run((io) => setRolloutHistory(api, target, undefined, io))).toBe('statefulset.apps/web\nNo rollout history found.\n');
  });
});

describe('setRolloutUndo', () => {
  it('writes the previous revision\'s template back', async () => {
    const { api, updates } = fakeApi(set('v2'), [rev('v1', 1), rev('v2', 2)]);
    expect(await run((io) => setRolloutUndo(api, target, 0, io))).toBe('statefulset.apps/web rolled back\n');
    expect((updates[0] as unknown as StatefulSet).spec.template).toEqual(template('v1'));
  });
  it('skips a rollback to the template the set has', async () => {
    const { api, updates } = fakeApi(set('v2'), [rev('v1', 1), rev('v2', 2)]);
    expect(await run((io) => setRolloutUndo(api, target, 2, io))).toBe('statefulset.apps/web skipped rollback (current template already matches revision 2)\n');
    expect(updates).toEqual([]);
  });
  it("refuses in kubectl's words: no history, no earlier revision, no such revision", async () => {
    await expect(run((io) => setRolloutUndo(fakeApi(set('v1'), []).api, target, 0, io))).rejects.toThrow('no rollout history found for statefulset "web"');
    await expect(run((io) => setRolloutUndo(fakeApi(set('v1'), [rev('v1', 1)]).api, target, 0, io))).rejects.toThrow('no last revision to roll back to');
    await expect(run((io) => setRolloutUndo(fakeApi(set('v1'), [rev('v1', 1)]).api, target, 4, io))).rejects.toThrow('unable to find specified revision 4 in history');
    await expect(run((io) => setRolloutUndo(fakeApi(set('v1'), [rev('v1', 1)]).api, target, -1, io))).rejects.toThrow('--to-revision must be a whole number, 0 or more');
  });
});
