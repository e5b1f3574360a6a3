/**
 * The subject API's `events` kind: read from the MK_EVENTS stream, not from the object store.
 * list takes a namespace (absent: all) and an optional fieldSelector on involvedObject.name, .uid
 * and .kind; get finds one event by name. Bad input is a ValidationError reply.
 */
import { listEvents, type Bus } from '../../bus';
import type { ObjectSource } from '../kind-module';
import {
  dns1123LabelError, NotFoundError, parseEventFieldSelector, ValidationError,
  type GetRequest, type GetResult, type ListRequest, type ListResult,
} from '../../messages';

function checkNamespace(namespace: unknown): string | undefined {
  if (namespace === undefined) return undefined;
  const bad = typeof namespace === 'string' ? dns1123LabelError(namespace) : 'must be a string';
  if (bad) throw new ValidationError(`invalid namespace "${String(namespace)}": ${bad}`);
  return namespace as string;
}

/** mk.api.list for events. */
async function listEventsHandler(bus: Bus, req: ListRequest): Promise<ListResult> {
  const namespace = checkNamespace(req.namespace);
  let fields = {};
  if (req.fieldSelector !== undefined) {
    if (typeof req.fieldSelector !== 'string') throw new ValidationError('fieldSelector must be a string such as "involvedObject.name=web"');
    const parsed = parseEventFieldSelector(req.fieldSelector);
    if (typeof parsed === 'string') throw new ValidationError(parsed);
    if (parsed.involvedKind !== undefined && !/^[A-Za-z][A-Za-z0-9]*$/.test(parsed.involvedKind)) {
      throw new ValidationError(`invalid involvedObject.kind "${parsed.involvedKind}": a kind is a word such as Pod`);
    }
    fields = parsed;
  }
  const { items, revision } = await listEvents(bus, { ...(namespace ? { namespace } : {}), ...fields });
  return { items, resourceVersion: String(revision) };
}

/** mk.api.get for events: the newest count of the event with that name. */
async function getEventHandler(bus: Bus, req: GetRequest): Promise<GetResult> {
  const namespace = checkNamespace(req.namespace) ?? 'default';
  if (typeof req.name !== 'string' || req.name === '') throw new ValidationError('name must be a non-empty string');
  const { items } = await listEvents(bus, { namespace });
  const found = items.find((e) => e.metadata.name === req.name);
  if (!found) throw new NotFoundError(`events "${req.name}" not found`);
  return { object: found };
}

/** The events stream as the api's source of the Event kind. */
export function eventSource(bus: Bus): ObjectSource {
  return { get: (req) => getEventHandler(bus, req), list: (req) => listEventsHandler(bus, req) };
}
