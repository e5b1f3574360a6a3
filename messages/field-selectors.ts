/**
 * Field selectors as kubectl's `--field-selector` takes them
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/):
 * `field=value`, `field==value`, `field!=value`, joined by commas (all must hold). Every stored
 * kind supports metadata.name and metadata.namespace; a kind adds its own fields in its KindInfo
 * (`fieldSelectors`: pods have spec.nodeName and status.phase). Events keep their own
 * involvedObject.* selectors (messages/event.ts). No zod here: the CLI's fast path uses it.
 */
import { ValidationError } from './errors';
import type { KindInfo } from './kind';
import type { KubeObject } from './meta';

/** One term of a field selector. */
export interface FieldRequirement { field: string; op: 'eq' | 'neq'; value: string }

/** The fields every stored kind can be selected by. */
export const COMMON_FIELDS: Readonly<Record<string, (o: KubeObject) => string | undefined>> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace,
};

/** The value of `field` on `obj` for `kind`, or undefined when the kind has no such field. */
function getter(kind: KindInfo, field: string): ((o: KubeObject) => string | undefined) | undefined {
  if (Object.hasOwn(COMMON_FIELDS, field)) return COMMON_FIELDS[field];
  return kind.fieldSelectors && Object.hasOwn(kind.fieldSelectors, field) ? kind.fieldSelectors[field] : undefined;
}

/**
 * Parses a field selector for `kind` ("" selects everything). Throws ValidationError for a term
 * that is not `field(=|==|!=)value`, and `field label not supported: <field>` (Kubernetes' words)
 * for a field the kind cannot be selected by.
 */
export function parseFieldSelector(kind: KindInfo, sel: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const raw of sel.split(',')) {
    const term = raw.trim();
    if (term === '') {
      if (sel.trim() === '') continue;
      throw new ValidationError(`invalid field selector "${sel}": an empty term (two commas, or one at an end)`);
    }
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new ValidationError(`invalid field selector "${sel}": "${term}" is not field=value, field==value or field!=value`);
    if (!getter(kind, m[1])) throw new ValidationError(`field label not supported: ${m[1]}`);
    if (/[=!]/.test(m[3])) throw new ValidationError(`invalid field selector "${sel}": the value of "${m[1]}" may not contain "=" or "!"`);
    out.push({ field: m[1], op: m[2] === '!=' ? 'neq' : 'eq', value: m[3].trim() });
  }
  return out;
}

/** True when `obj` satisfies every requirement (a missing field reads as ""). */
export function matchesFields(kind: KindInfo, reqs: FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => {
    const v = getter(kind, r.field)?.(obj) ?? '';
    return r.op === 'eq' ? v === r.value : v !== r.value;
  });
}
