/**
 * How a list or watch request selects events: namespace, label and field selectors over the
 * Event kind's fields (involvedObject.kind, .name, .namespace, .uid, .apiVersion, reason, type,
 * source, metadata.name, metadata.namespace), and the subject filter that narrows what the
 * stream has to send. Bad input is a ValidationError naming it.
 */
import {
  dns1123LabelError, EventKind, matches, matchesFields, parseFieldSelector, parseSelector, ValidationError,
  type KubeObject,
} from '../../messages';

/** What a request selects: the test of each event, and the stream filters that narrow it. */
export interface EventSelection {
  namespace?: string;
  /** `involvedObject.kind=X`, when the field selector asks for one kind (a subject token). */
  involvedKind?: string;
  involvedName?: string;
  involvedUid?: string;
  test(o: KubeObject): boolean;
}

/** Throws ValidationError for a namespace that is not a string or not a DNS-1123 label. */
export function checkNamespace(namespace: unknown): string | undefined {
  if (namespace === undefined) return undefined;
  const bad = typeof namespace === 'string' ? dns1123LabelError(namespace) : 'must be a string';
  if (bad) throw new ValidationError(`invalid namespace "${String(namespace)}": ${bad}`);
  return namespace as string;
}

/**
 * Reads a request's namespace and selectors. A field the events cannot be selected by is
 * `field label not supported: <field>`, as Kubernetes says it.
 */
export function eventSelection(req: { namespace?: unknown; labelSelector?: unknown; fieldSelector?: unknown }): EventSelection {
  const namespace = checkNamespace(req.namespace);
  for (const f of ['labelSelector', 'fieldSelector'] as const) {
    if (req[f] !== undefined && typeof req[f] !== 'string') throw new ValidationError(`${f} must be a string such as "involvedObject.name=web"`);
  }
  const labels = req.labelSelector ? parseSelector(req.labelSelector as string) : [];
  const fields = req.fieldSelector ? parseFieldSelector(EventKind, req.fieldSelector as string) : [];
  const eq = (field: string) => fields.find((r) => r.field === field && r.op === 'eq')?.value;
  const kind = eq('involvedObject.kind');
  return {
    ...(namespace ? { namespace } : {}),
    // A kind that is no subject token selects nothing; the test says so without a filter.
    ...(kind !== undefined && /^[A-Za-z][A-Za-z0-9]*$/.test(kind) ? { involvedKind: kind } : {}),
    ...(eq('involvedObject.name') !== undefined ? { involvedName: eq('involvedObject.name') } : {}),
    ...(eq('involvedObject.uid') !== undefined ? { involvedUid: eq('involvedObject.uid') } : {}),
    test: (o) => matches(labels, o.metadata.labels) && matchesFields(EventKind, fields, o),
  };
}
