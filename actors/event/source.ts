/**
 * The subject API's `events` kind: read from the MK_EVENTS stream, not from the object store.
 * list takes a namespace (absent: all) and label and field selectors (actors/event/select.ts);
 * get finds one event by name; watch streams them (actors/event/watch.ts). Bad input is a
 * ValidationError reply.
 */
import { listEvents, purgeNamespaceEvents, type Bus } from '../../bus';
import type { ObjectSource } from '../kind-module';
import { NotFoundError, ValidationError, type GetRequest, type GetResult, type ListRequest, type ListResult } from '../../messages';
import { checkNamespace, eventSelection } from './select';
import { watchEvents } from './watch';

/** mk.api.list for events. */
async function listEventsHandler(bus: Bus, req: ListRequest): Promise<ListResult> {
  const { test, ...filters } = eventSelection(req);
  const { items, revision } = await listEvents(bus, filters);
  return { items: items.filter(test), resourceVersion: String(revision) };
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
  return {
    get: (req) => getEventHandler(bus, req),
    list: (req) => listEventsHandler(bus, req),
    watch: (req, from, out) => watchEvents(bus, req, from, out),
    deleteNamespace: (namespace) => purgeNamespaceEvents(bus, namespace),
  };
}
