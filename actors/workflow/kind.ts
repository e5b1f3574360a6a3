/**
 * The Workflow and WorkflowRun kinds' control-plane side. A Workflow is checked whole when it is
 * written (its schema carries every check of messages/workflow/validate.ts) and may change at any
 * time: a started run follows the spec pinned in its journal. A WorkflowRun's spec is fixed once
 * it exists, except that `spec.cancel` may be set; its controller (run-controller.ts) runs it.
 */
import { JetStreamPersistenceEngine } from '../../bus';
import { ValidationError, WorkflowKind, WorkflowRunKind, type KubeObject, type WorkflowRunObject } from '../../messages';
import { stableJson } from '../api/admission';
import type { KindModule } from '../kind-module';
import { openPayloadStore } from '../../bus/workflow-payloads';
import { workflowRunController } from './run-controller';
import { startTaskInvoker } from './tasks';

/** Refuses a change to a run's spec other than setting spec.cancel. */
function admitRunUpdate(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as unknown as WorkflowRunObject;
  const next = nextObj as unknown as WorkflowRunObject;
  const { cancel: wasCancel, ...was } = existing.spec;
  const { cancel, ...now } = next.spec;
  const label = `WorkflowRun.mk.io "${existing.metadata.name}" is invalid`;
  if (stableJson(was) !== stableJson(now)) {
    const why = 'spec: Forbidden: a run\'s spec cannot change once it exists, except spec.cancel (start another run instead)';
    throw new ValidationError(`${label}: ${why}`, [why]);
  }
  if (wasCancel !== undefined && cancel === undefined) {
    const why = 'spec.cancel: Forbidden: a cancelled run cannot be resumed';
    throw new ValidationError(`${label}: ${why}`, [why]);
  }
  return nextObj;
}

/** The Workflow kind module (actors/kinds.ts lists it). */
export const workflowModule: KindModule = {
  info: WorkflowKind,
};

/** The WorkflowRun kind module (actors/kinds.ts lists it). */
export const workflowRunModule: KindModule = {
  info: WorkflowRunKind,
  initialStatus: () => ({ phase: 'Pending' }),
  admitUpdate: admitRunUpdate,
  controller: (ctx) => workflowRunController({
    store: ctx.store,
    bus: ctx.bus,
    journal: () => JetStreamPersistenceEngine.open(ctx.bus),
    invoker: () => startTaskInvoker(ctx.bus),
    payloads: () => openPayloadStore(ctx.bus.nc, { create: true, replicas: ctx.bus.replicas }),
    runs: workflowRunModule,
  }),
};
