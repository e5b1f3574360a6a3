/**
 * What a firing gives its target, from the event and the target's fixed `input`:
 * - no input: the event as it is;
 * - inputMode Replace: the input alone (the event is dropped);
 * - inputMode Merge (the default): when the event is a JSON object, its top-level fields with the
 *   input's fields over them (the trigger's author fixes those); otherwise `{ event, ...input }`,
 *   so the event is never lost. The merge is shallow: a field the input names is the input's whole.
 * (An input that is not an object, which the schema refuses with Merge, is given as it is.)
 * Pure: the result shares nothing with its arguments.
 */
import type { TriggerTarget } from '../../messages/trigger';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The target's input for `event` (see above). */
export function targetInput(target: Pick<TriggerTarget, 'input' | 'inputMode'>, event: unknown): unknown {
  if (target.input === undefined) return structuredClone(event);
  const input = structuredClone(target.input);
  if ((target.inputMode ?? 'Merge') === 'Replace' || !isObject(input)) return input;
  return isObject(event) ? { ...structuredClone(event), ...input } : { event: structuredClone(event), ...input };
}
