/**
 * The Trigger kind's control-plane side: admission is the schema (messages/trigger.ts) with the
 * defaults filled in (defaultTrigger), an HTTP path served by one trigger only, and the
 * controller (controller.ts) with the function invoker of workflow runs (tasks.ts).
 */
import type { ObjectStore } from '../../bus';
import { keyFilter, TriggerKind, ValidationError, type KubeObject, type Trigger } from '../../messages';
import { defaultTrigger } from '../../messages/trigger';
import type { KindModule } from '../kind-module';
import { workflowRunModule } from '../workflow/kind';
import { startTaskInvoker } from '../workflow/tasks';
import { triggerController } from './controller';

/**
 * Refuses an HTTP path another trigger already serves (a gateway routes a path to one trigger).
 * A check, not a reservation: two creates racing may both pass, and the gateways then route the
 * path to the older trigger.
 */
async function checkHttpPath(store: ObjectStore, next: Trigger): Promise<void> {
  const path = next.spec.source.http?.path;
  if (path === undefined) return;
  const { items } = await store.list<Trigger>(keyFilter(TriggerKind.plural));
  const other = items.map((i) => i.object).find((o) => o.metadata.uid !== next.metadata.uid && o.spec?.source?.http?.path === path
    && !(o.metadata.name === next.metadata.name && o.metadata.namespace === next.metadata.namespace));
  if (other) {
    const why = `spec.source.http.path: Duplicate value: "${path}": already served by trigger ${other.metadata.namespace ?? 'default'}/${other.metadata.name}`;
    throw new ValidationError(`Trigger.mk.io "${next.metadata.name}" is invalid: ${why}`, [why]);
  }
}

/** The Trigger kind module (actors/kinds.ts lists it). */
export const triggerModule: KindModule = {
  info: TriggerKind,
  // defaultTrigger leaves the dead-letter subject derived: the default is under `mk.`, which the schema refuses in a manifest.
  defaults: (o) => defaultTrigger(o as unknown as Trigger) as unknown as KubeObject,
  initialStatus: () => ({}),
  allocate: async (store, _existing, next) => {
    await checkHttpPath(store, next as unknown as Trigger);
    return { object: next, undo: async () => undefined, done: async () => undefined };
  },
  controller: (ctx) => triggerController({
    store: ctx.store,
    bus: ctx.bus,
    invoker: () => startTaskInvoker(ctx.bus),
    runs: workflowRunModule,
  }),
};
