/**
 * The talking parts of `mk workflow run --wait` and `mk workflow cancel`: follow one run through
 * the api's watch (mk.api.watch) until its phase is final, and ask a run to stop by setting
 * spec.cancel with an update checked by revision.
 */
import { isConflict, isNotFound } from '../messages/errors';
import { WorkflowRunKind } from '../messages/kinds/workflow';
import type { WatchEvent } from '../messages';
import type { WorkflowRunObject } from '../messages/printing/describe-workflow';
import { isFinalPhase } from '../messages/workflow/run';
import type { Api, Client } from './client';
import { groupNotFound } from './workflow-run';
import { streamWatch } from './watch-stream';

/** How waiting for a run ended: the run in a final phase, gone, or still going at the deadline. */
export type RunWait =
  | { type: 'final'; run: WorkflowRunObject }
  | { type: 'deleted' }
  | { type: 'timeout'; run: WorkflowRunObject | undefined };

/**
 * Lists the run, then watches it from the listing's revision until its phase is final, it is
 * deleted, or `timeoutMs` passes; `onChange` hears every version seen (the first included). A
 * run that does not exist when the wait starts is NotFound (`workflowruns.mk.io "x" not found`).
 * Rejects with what the watch cannot get past.
 */
export async function waitForRun(client: Client, namespace: string, name: string, timeoutMs: number,
  onChange: (run: WorkflowRunObject) => void = () => undefined): Promise<RunWait> {
  const deadline = Date.now() + timeoutMs;
  const kind = WorkflowRunKind;
  const fieldSelector = `metadata.name=${name}`;
  const listed = await client.api.listAt(kind, namespace, undefined, fieldSelector);
  const first = listed.items.find((o) => o.metadata.name === name) as WorkflowRunObject | undefined;
  if (!first) throw groupNotFound(kind, name);
  let latest: WorkflowRunObject = first;
  onChange(first);
  if (isFinalPhase(first.status?.phase)) return { type: 'final', run: first };
  if (Date.now() >= deadline) return { type: 'timeout', run: latest };

  let settle: (r: RunWait) => void = () => undefined;
  const result = new Promise<RunWait>((resolve) => { settle = resolve; });
  const seen = (obj: WorkflowRunObject | null): void => {
    if (!obj) { settle({ type: 'deleted' }); return; }
    // A relist or a resumed stream may hand back a version already seen, or an older one.
    if (Number(obj.metadata.resourceVersion) < Number(latest.metadata.resourceVersion)) return;
    if (obj.metadata.resourceVersion !== latest.metadata.resourceVersion) onChange(obj);
    latest = obj;
    if (isFinalPhase(obj.status?.phase)) settle({ type: 'final', run: obj });
  };
  const handle = await streamWatch(client.bus, client.ctx.user, {
    kind, namespace, name, resourceVersion: listed.resourceVersion,
  }, {
    onEvent: (ev: WatchEvent) => seen(ev.type === 'DELETED' ? null : ev.object as WorkflowRunObject),
    relist: async () => {
      const again = await client.api.listAt(kind, namespace, undefined, fieldSelector);
      seen((again.items.find((o) => o.metadata.name === name) as WorkflowRunObject | undefined) ?? null);
      return again.resourceVersion;
    },
  });
  const timer = setTimeout(() => settle({ type: 'timeout', run: latest }), Math.max(0, deadline - Date.now()));
  try {
    // The watch ends only when stopped or on an error it cannot get past (done rejects).
    return await Promise.race([result, handle.done.then(() => ({ type: 'timeout', run: latest }) as const)]);
  } finally {
    clearTimeout(timer);
    await handle.stop();
  }
}

/** How many times a cancel is tried again after a Conflict (the controller writes status as the run goes). */
export const CANCEL_RETRIES = 10;

/** What a cancel did: asked the run to stop, or found it had already ended. */
export type CancelResult = { type: 'cancelled'; run: WorkflowRunObject } | { type: 'ended'; run: WorkflowRunObject };

/**
 * Sets spec.cancel (with `reason` when given) of a run that has not ended, by an update that
 * carries the revision read: a run that changed meanwhile is a Conflict, read again and retried up
 * to CANCEL_RETRIES times. A run already final is left as it is. A run already asked to stop is
 * not asked again. Throws NotFound (`workflowruns.mk.io "x" not found`) for a missing run.
 */
export async function cancelRun(api: Api, namespace: string, name: string, reason: string | undefined): Promise<CancelResult> {
  for (let attempt = 0; ; attempt++) {
    let run: WorkflowRunObject;
    try {
      run = await api.get(WorkflowRunKind, namespace, name) as WorkflowRunObject;
    } catch (e) {
      if (isNotFound(e)) throw groupNotFound(WorkflowRunKind, name);
      throw e;
    }
    if (isFinalPhase(run.status?.phase)) return { type: 'ended', run };
    if (run.spec.cancel) return { type: 'cancelled', run };
    // The api keeps the status as it is; only the spec changes.
    const next = { ...run, spec: { ...run.spec, cancel: reason !== undefined ? { reason } : {} } };
    try {
      const r = await api.update({ object: next, namespace });
      return { type: 'cancelled', run: r.object as WorkflowRunObject };
    } catch (e) {
      if (isNotFound(e)) throw groupNotFound(WorkflowRunKind, name);
      if (!isConflict(e) || attempt >= CANCEL_RETRIES) throw e;
    }
  }
}
