/**
 * HTTP triggers on the gateway: the paths the gateway serves for them (learned through
 * mk.api.gateway.list, which gives each HTTP trigger cut to its path and methods), and the
 * firing a request makes: one message on the trigger's subject of the events stream
 * (messages/trigger-subjects.ts), kept there until the trigger engine of the leading control
 * plane has recorded it. The firing id comes from the message's stream sequence, so the caller
 * gets, in the 202, the id the engine uses for the async call or the WorkflowRun.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  DEFAULT_HTTP_METHODS, messageFiringId, TRIGGER_HTTP_HEADERS, triggerHttpSubject, type Trigger,
} from '../../messages';

/** One HTTP trigger as the gateway routes it. */
export interface HttpTriggerRoute {
  namespace: string;
  name: string;
  methods: readonly string[];
}

/**
 * The routes of `triggers` by path. A path two triggers name (admission refuses the second, but
 * two creates may race) goes to the older one.
 */
export function httpTriggerRoutes(triggers: readonly Trigger[]): Map<string, HttpTriggerRoute> {
  const sorted = [...triggers].filter((t) => t.spec?.source?.http).sort((a, b) =>
    (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')
    || `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  const out = new Map<string, HttpTriggerRoute>();
  for (const t of sorted) {
    const http = t.spec.source.http!;
    if (out.has(http.path)) continue;
    out.set(http.path, { namespace: t.metadata.namespace ?? 'default', name: t.metadata.name, methods: http.methods ?? DEFAULT_HTTP_METHODS });
  }
  return out;
}

/** Request headers not passed on to the firing (they describe the connection, not the event). */
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/**
 * Publishes the firing of `route` by a request (`method`, `path`, its headers and body) and
 * resolves with its id. Throws when the events stream does not take it (no control plane made
 * it yet, the bus down): the caller answers 503.
 */
export async function publishHttpFiring(
  js: JetStreamClient, route: HttpTriggerRoute, req: { method: string; path: string; headers: IncomingHttpHeaders }, body: Uint8Array,
): Promise<string> {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_HEADERS.has(k.toLowerCase())) continue;
    for (const value of Array.isArray(v) ? v : [v]) h.append(k, value);
  }
  h.set(TRIGGER_HTTP_HEADERS.method, req.method);
  h.set(TRIGGER_HTTP_HEADERS.path, req.path);
  const ack = await js.publish(triggerHttpSubject(route.namespace, route.name), body, { headers: h, timeout: 5000 });
  return messageFiringId(route.name, ack.seq);
}
