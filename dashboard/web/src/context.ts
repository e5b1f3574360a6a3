/** What every view is given: the feed, its route, whether this session may write, navigation. */
import type { Feed } from './feed';
import type { Route } from './router';

export interface ViewContext {
  feed: Feed;
  route: Route;
  /** True on a write session (the server's hello); write controls are enabled only then. */
  writable: boolean;
  /** Goes to another route (a new history entry; Back returns). */
  navigate(r: Route): void;
  /** Changes the current route's filters without a new history entry. */
  replace(r: Route): void;
}

/** A view draws into `root` and returns what ends it (subscriptions closed, timers cleared). */
export type View = (root: HTMLElement, ctx: ViewContext) => () => void;

/** The note beside a disabled write control. */
export const READ_ONLY_NOTE = 'read-only: run `mk dashboard` for a write link';
