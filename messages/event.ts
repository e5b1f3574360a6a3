/**
 * v1 Event as mk records it (https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/):
 * what happened to which object, said by which component. Events are not stored with the objects:
 * they go to the MK_EVENTS stream (subjects `mk.events.<namespace>.<kind>`), which forgets them after
 * an hour. They are read-only through the API: only mk's own components record them.
 */
import { z } from 'zod';
import { ObjectMeta, type KubeObject } from './meta';

/** Normal for the expected course of things, Warning for what a user may need to act on. */
export type EventType = 'Normal' | 'Warning';

/** The object an event is about. */
export interface ObjectReference {
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  apiVersion?: string;
}

/** The component that recorded an event (`default-scheduler`, `mk-node` on host `n1`). */
export interface EventSource {
  component: string;
  host?: string;
}

/**
 * One event. Repeats of the same event (object, reason, message) are published again under the
 * same name with a higher `count`; readers keep the newest per name.
 */
export interface Event {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace?: string; creationTimestamp?: string; resourceVersion?: string };
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: EventSource;
}

/**
 * The schema of the `events` kind. It exists so that a manifest of kind Event is recognised; the
 * api refuses to apply it whatever it holds (see KindInfo.readOnly).
 */
export const EventSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('Event').describe('The kind of object: `Event`.'),
  metadata: ObjectMeta.describe(
    "The event's name (the object's name, a dot and 16 hex digits) and namespace (the object's); creationTimestamp is the first occurrence.",
  ),
  involvedObject: z.strictObject({
    kind: z.string().describe('The kind of the object, such as `Pod`.'),
    name: z.string().describe('The name of the object.'),
    namespace: z.string().optional().describe('The namespace of the object; absent for cluster-scoped objects such as nodes.'),
    uid: z.string().optional().describe('The uid of the object, which tells it apart from a later object of the same name.'),
    apiVersion: z.string().optional().describe('The API version of the object, such as `v1`.'),
  }).meta({ title: 'ObjectReference' }).describe(
    'The object the event is about; `mk events --for pod/web` lists the events of one object by it.',
  ),
  reason: z.string().describe('A short CamelCase word for what happened, such as Scheduled, Pulled, BackOff or FailedScheduling.'),
  message: z.string().describe('What happened, in a sentence for people to read.'),
  type: z.enum(['Normal', 'Warning']).describe('Normal for the expected course of things, Warning for what someone may need to act on.'),
  count: z.number().int().describe(
    'How many times it happened: a repeat (same object, type, reason and message) within 10 minutes of the last one counts up here.',
  ),
  firstTimestamp: z.string().describe('When it first happened, in RFC 3339 form in UTC.'),
  lastTimestamp: z.string().describe('When it last happened, in RFC 3339 form in UTC.'),
  source: z.strictObject({
    component: z.string().describe('The component that recorded the event: `default-scheduler`, or `mk-node` for node agents.'),
    host: z.string().optional().describe('The node whose agent recorded the event; absent for control-plane components.'),
  }).meta({ title: 'EventSource' }).describe('Which part of mk recorded the event.'),
}).meta({ title: 'Event' });

/** The reference an event keeps to `obj`. */
export function objectReference(obj: KubeObject): ObjectReference {
  const { name, namespace, uid } = obj.metadata;
  return { kind: obj.kind, name, ...(namespace ? { namespace } : {}), ...(uid ? { uid } : {}), apiVersion: obj.apiVersion };
}
