import { ConflictError, NotFoundError } from '../messages/errors';
import type { KubeObject, UpdateRequest, WorkflowRunObject } from '../messages';
import type { Api } from './client';
import { CANCEL_RETRIES, cancelRun } from './workflow-wait';

/** An api holding one run, whose updates fail with a Conflict the first `conflicts` times (the controller wrote status meanwhile). */
function fakeApi(run: WorkflowRunObject | undefined, conflicts = 0): { api: Api; updates: UpdateRequest[] } {
  const updates: UpdateRequest[] = [];
  let stored = run;
  let rv = 10;
  const api = {
    get: async (_kind: unknown, _ns: string, name: string): Promise<KubeObject> => {
      if (!stored || stored.metadata.name !== name) throw new NotFoundError(`workflowruns "${name}" not found`);
      return structuredClone(stored) as KubeObject;
    },
    update: async (req: UpdateRequest) => {
      updates.push(req);
      const next = req.object as WorkflowRunObject;
      if (conflicts > 0) {
        conflicts--;
        rv++;
        stored = { ...stored!, metadata: { ...stored!.metadata, resourceVersion: String(rv) } };
        throw new ConflictError('the object has been modified');
      }
      if (next.metadata.resourceVersion !== stored!.metadata.resourceVersion) throw new ConflictError('stale');
      stored = { ...next, status: stored!.status };
      return { object: stored as KubeObject, result: 'replaced' as const, warnings: [] };
    },
  };
  return { api: api as unknown as Api, updates };
}

const running = (status: WorkflowRunObject['status'] = { phase: 'Running', currentStates: ['Sleep#1'] }): WorkflowRunObject => ({
  apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name: 'r1', namespace: 'default', resourceVersion: '10' },
  spec: { workflowRef: { name: 'wf' }, input: {} }, status,
}) as WorkflowRunObject;

describe('cancelRun', () => {
  it('sets spec.cancel with the reason, by an update carrying the revision read, and keeps the rest of the spec', async () => {
    const { api, updates } = fakeApi(running());
    const r = await cancelRun(api, 'default', 'r1', 'wrong input');
    expect(r.type).toBe('cancelled');
    expect(updates).toHaveLength(1);
    const sent = updates[0].object as WorkflowRunObject;
    expect(sent.spec).toEqual({ workflowRef: { name: 'wf' }, input: {}, cancel: { reason: 'wrong input' } });
    expect(sent.metadata.resourceVersion).toBe('10');
    expect(updates[0].namespace).toBe('default');
  });

  it('reads again and retries after a Conflict', async () => {
    const { api, updates } = fakeApi(running(), 3);
    const r = await cancelRun(api, 'default', 'r1', undefined);
    expect(r.type).toBe('cancelled');
    expect(updates.map((u) => (u.object as KubeObject).metadata.resourceVersion)).toEqual(['10', '11', '12', '13']);
    expect((r.run as WorkflowRunObject).spec.cancel).toEqual({});
  });

  it('gives up with the Conflict after its retries', async () => {
    const { api, updates } = fakeApi(running(), CANCEL_RETRIES + 5);
    await expect(cancelRun(api, 'default', 'r1', undefined)).rejects.toBeInstanceOf(ConflictError);
    expect(updates).toHaveLength(CANCEL_RETRIES + 1);
  });

  it('leaves a run that has ended, or was already asked to stop, as it is', async () => {
    const done = fakeApi(running({ phase: 'Succeeded', output: 1 }));
    expect(await cancelRun(done.api, 'default', 'r1', 'late')).toMatchObject({ type: 'ended', run: { status: { phase: 'Succeeded' } } });
    expect(done.updates).toHaveLength(0);
    const asked = running();
    asked.spec.cancel = { reason: 'first' };
    const again = fakeApi(asked);
    expect((await cancelRun(again.api, 'default', 'r1', 'second')).type).toBe('cancelled');
    expect(again.updates).toHaveLength(0);
  });

  it('words a missing run as kubectl does', async () => {
    const { api } = fakeApi(undefined);
    await expect(cancelRun(api, 'default', 'nope', undefined)).rejects.toThrow('workflowruns.mk.io "nope" not found');
  });
});
