/**
 * A fix to nact 7.6 that every mk process needs, applied once when this module loads. nact's
 * `Actor.stop()` detaches the actor from its parent and then stops its children through a lookup
 * by path from the system's root, which no longer finds them: a stopped actor's children (and
 * theirs) live on, with their timers and subscriptions, and their `afterStop` never runs. So a
 * stopped leader's scheduler kept its timers. The fix stops the children directly, deepest first,
 * before nact's own stop runs (which then finds no children left). Tested in nact-fixes.test.ts,
 * which fails if a new nact changes what this relies on.
 */
import { createRequire } from 'node:module';

interface StoppableActor { children: Map<string, StoppableActor>; stop(): void }

const FIXED = Symbol.for('mk.nactStopFixed');
const nactRequire = createRequire(require.resolve('nact'));
const proto = (nactRequire('./actor') as { Actor: { prototype: Record<string | symbol, unknown> } }).Actor.prototype;

if (!proto[FIXED]) {
  const original = proto.stop as (this: StoppableActor) => void;
  proto.stop = function stop(this: StoppableActor): void {
    for (const child of [...this.children.values()]) child.stop();
    original.call(this);
  };
  proto[FIXED] = true;
}

/** Whether the fix is in place (it is, once this module has loaded). */
export function nactStopFixed(): boolean {
  return proto[FIXED] === true;
}
