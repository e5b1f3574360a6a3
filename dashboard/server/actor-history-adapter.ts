/**
 * The one place the feed reads the actor trees of the past (bus/actor-history.ts `actorTreeAt`,
 * rebuilt from the MK_ACTORS stream's censuses and lifecycle messages). Until that module is part
 * of this build the scrubber answers objects only, and says the tree is unavailable.
 */
import type { Bus } from '../../bus';
import type { ActorInfo } from '../../messages/telemetry';
import { FeedError } from './feed-error';

/** Every process's tree (or one process's) as it was at `at`. */
export type ActorTreeAt = (bus: Bus, at: Date, process?: string) => Promise<{ process: string; actors: ActorInfo[] }[]>;

/** The tree at a time; throws FeedError Unavailable while the history module is missing. */
export const actorTreeAt: ActorTreeAt = async () => {
  throw new FeedError('Unavailable', 'the actor tree of the past is not available: this control plane has no actor history');
};
