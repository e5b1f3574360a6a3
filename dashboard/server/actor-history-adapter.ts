/**
 * The one place the feed reads the actor trees of the past: bus/actor-history.ts rebuilds them
 * from MK_ACTORS (each process's latest census before the moment and its lifecycle changes after
 * it, up to the moment); the feed needs each tree's process and actors. Kept as a seam so the
 * feed's tests can give their own reader.
 */
import { actorTreeAt as readTreesAt, type Bus } from '../../bus';
import type { ActorInfo } from '../../messages/telemetry';

/** Every process's tree (or one process's) as it was at `at`. */
export type ActorTreeAt = (bus: Bus, at: Date, process?: string) => Promise<{ process: string; actors: ActorInfo[] }[]>;

/** Reads the trees at `at`; [] when there is no history (no MK_ACTORS stream yet). */
export const actorTreeAt: ActorTreeAt = async (bus, at, process) =>
  (await readTreesAt(bus, at, process)).map((t) => ({ process: t.process, actors: t.actors }));
