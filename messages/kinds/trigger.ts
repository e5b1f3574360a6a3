/** The Trigger kind as messages/ declares it: schema, the columns of `mk get` and its describer. */
import type { KindInfo } from '../kind';
import type { KubeObject } from '../meta';
import { describeTrigger } from '../printing/describe-trigger';
import { age } from '../printing/time';
import type { Trigger } from '../trigger';
import { DEFAULT_TRIGGER_MAX_ATTEMPTS } from '../trigger-names';
import { triggerSourceText, triggerTargetText } from '../trigger-text';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let triggerModuleLoaded: typeof import('../trigger') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const triggerModule = () => (triggerModuleLoaded ??= require('../trigger') as typeof import('../trigger'));

const trig = (o: KubeObject): Trigger => o as unknown as Trigger;

/** `mk get triggers`: NAME SOURCE TARGET LAST-FIRING AGE, and POLICY ATTEMPTS with `-o wide`. */
export const TriggerKind: KindInfo = {
  apiVersion: 'mk.io/v1',
  kind: 'Trigger',
  plural: 'triggers',
  singular: 'trigger',
  shortNames: ['trig'],
  namespaced: true,
  get schema() { return triggerModule().TriggerSchema; },
  storage: 'store',
  description: 'Binds an event source (a cron schedule or a delay, a NATS subject with filters, a gateway HTTP path, a path on a node) to a function '
    + 'or a workflow: each firing is delivered once under an id of its own, retried with backoff, and published to a '
    + 'dead-letter subject after its last try.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'SOURCE', value: (o) => triggerSourceText(trig(o).spec?.source) },
    { name: 'TARGET', value: (o) => triggerTargetText(trig(o).spec?.target) },
    { name: 'LAST-FIRING', value: (o, now) => (trig(o).status?.lastFiringTime ? age(trig(o).status?.lastFiringTime, now) : '<none>') },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'POLICY', priority: 1, value: (o) => trig(o).spec?.concurrencyPolicy ?? 'Allow' },
    { name: 'ATTEMPTS', priority: 1, value: (o) => String(trig(o).spec?.maxAttempts ?? DEFAULT_TRIGGER_MAX_ATTEMPTS) },
  ],
  describer: { describe: (o, ctx) => describeTrigger(trig(o), ctx.events, ctx.now) },
};
