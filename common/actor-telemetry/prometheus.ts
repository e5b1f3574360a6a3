/**
 * Actor metrics in prom-client's default registry, served by the process's /metrics. Every
 * series is by actor kind, never by actor: 10,000 pods must not make 10,000 series. They are fed
 * by the recorder's collections (about once a second), not per message: the duration histogram
 * takes the sampled timings, the message counter the exact counts.
 */
import { Counter, Gauge, Histogram, register } from 'prom-client';

/** What the recorder tells the metrics. */
export interface ActorMetrics {
  spawned(kind: string): void;
  stopped(kind: string): void;
  restarted(kind: string): void;
  handled(kind: string, count: number, sampleMs: readonly number[]): void;
  mailboxes(byKind: ReadonlyMap<string, { sum: number; max: number }>): void;
}

/** Handling times from 100 µs to 10 s. */
const BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

function metric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

let made: ActorMetrics | undefined;

/** The actor metrics, registered on first use (once per process). */
export function actorMetrics(): ActorMetrics {
  if (made) return made;
  const actors = metric('mk_actors', () => new Gauge({ name: 'mk_actors', help: 'Live actors in this process, by kind', labelNames: ['kind'] }));
  const depth = metric('mk_actor_mailbox_depth', () => new Gauge({
    name: 'mk_actor_mailbox_depth', help: 'Messages waiting in the mailboxes of the actors of a kind (sum)', labelNames: ['kind'],
  }));
  const depthMax = metric('mk_actor_mailbox_depth_max', () => new Gauge({
    name: 'mk_actor_mailbox_depth_max', help: 'The deepest mailbox among the actors of a kind', labelNames: ['kind'],
  }));
  const duration = metric('mk_actor_message_duration_seconds', () => new Histogram({
    name: 'mk_actor_message_duration_seconds', help: 'Time an actor takes to handle a message (sampled), by kind', labelNames: ['kind'], buckets: BUCKETS,
  }));
  const messages = metric('mk_actor_messages_total', () => new Counter({
    name: 'mk_actor_messages_total', help: 'Messages handled by actors, by kind', labelNames: ['kind'],
  }));
  const restarts = metric('mk_actor_restarts_total', () => new Counter({
    name: 'mk_actor_restarts_total', help: 'Actor crashes handled by their supervisors, by kind', labelNames: ['kind'],
  }));
  const depthKinds = new Set<string>();
  made = {
    spawned: (kind) => actors.inc({ kind }),
    stopped: (kind) => actors.dec({ kind }),
    restarted: (kind) => restarts.inc({ kind }),
    handled(kind, count, sampleMs) {
      messages.inc({ kind }, count);
      const h = duration.labels({ kind });
      for (const ms of sampleMs) h.observe(ms / 1000);
    },
    mailboxes(byKind) {
      for (const k of depthKinds) if (!byKind.has(k)) { depth.set({ kind: k }, 0); depthMax.set({ kind: k }, 0); }
      for (const [kind, { sum, max }] of byKind) { depthKinds.add(kind); depth.set({ kind }, sum); depthMax.set({ kind }, max); }
    },
  };
  return made;
}
