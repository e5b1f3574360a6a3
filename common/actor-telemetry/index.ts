/**
 * Actor telemetry inside one process: what its nact actors are, do and suffer (no bus I/O; the
 * feed on the bus is bus/actor-feed.ts). On by default; `MK_ACTOR_TELEMETRY=off` turns it off.
 */
export {
  actorTelemetryEnabled, census, collectChanges, collectLifecycle, collectStats, describeActor, disableActorTelemetry,
  enableActorTelemetry, kindFromName, snapshot, summarizeMessage, telemetryState, type ActorMeta,
} from './recorder';
export { actorMetrics, type ActorMetrics } from './prometheus';

/** False when the environment turns actor telemetry off (`MK_ACTOR_TELEMETRY=off`, `0` or `false`). */
export function actorTelemetryWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.MK_ACTOR_TELEMETRY ?? '').trim().toLowerCase();
  return !['off', '0', 'false', 'no'].includes(v);
}
