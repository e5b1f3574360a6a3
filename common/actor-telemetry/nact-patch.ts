/**
 * The one place mk reaches into nact's internals. Why: nact 7.6 has no hooks for a spawn, a
 * message, a crash or a stop, and an observer of the supervision trees needs all four. Its `Actor`
 * class (nact/lib/actor.js, also the base of persistent actors) runs every actor through six
 * prototype methods; wrapping them once per process sees every actor of every ActorSystem here.
 * `unpatchNact` puts the originals back, so telemetry switched off costs nothing.
 *
 * What each wrapper relies on (nact-patch.test.ts fails when a new nact changes it):
 * - `initializeState()` runs in the constructor (after `childSpawned`) and again on each reset,
 *   persistent actors included: the first call is the spawn, later ones are restarts;
 * - `dispatch()` queues `{ message, sender }` on `mailbox` (a denque) while `busy`, else calls
 *   `handleMessage()`, which runs the handler in a setImmediate that starts with `createContext()`;
 * - `processNext()` follows every handled message (and a resume) and takes the next from the queue;
 * - `handleFault(msg, sender, error, child)` is the actor's own crash when `child` is undefined;
 * - `stop()` stops an actor; its `children` (a Map of Actors) are still there when it is called.
 */
import { createRequire } from 'node:module';
// Before the originals are kept: switching telemetry off must not undo the fix.
import '../nact-fixes';

/** The parts of nact's Actor that telemetry reads. */
export interface NactActor {
  name: string;
  path: { parts: string[]; toString(): string };
  parent?: unknown;
  busy: boolean;
  stopped: boolean;
  children: Map<string, NactActor>;
  mailbox: { length: number; peekFront(): QueuedMessage | undefined; peekBack(): QueuedMessage | undefined };
  onCrash?: unknown;
}

/** A queued message; `t` is stamped when it was queued (performance.now()). */
export interface QueuedMessage { message: unknown; sender: unknown; t?: number }

/** What the wrappers tell the recorder. Each is called synchronously, on nact's own call. */
export interface NactHooks {
  initialized(actor: NactActor): void;
  queued(actor: NactActor, entry: QueuedMessage): void;
  started(actor: NactActor): void;
  handling(actor: NactActor): void;
  next(actor: NactActor): void;
  crashed(actor: NactActor, msg: unknown, error: unknown): void;
  crashHandled(actor: NactActor): void;
  stopping(actor: NactActor): void;
}

/** The patched method names, in nact's Actor.prototype. */
export const PATCHED_METHODS = ['initializeState', 'dispatch', 'handleMessage', 'createContext', 'processNext', 'handleFault', 'stop'] as const;
type Method = (typeof PATCHED_METHODS)[number];
type Fn = (this: NactActor, ...args: unknown[]) => unknown;

const nactRequire = createRequire(require.resolve('nact'));
/** nact's Actor class: the same module instance nact itself uses. */
export const NactActorClass = (nactRequire('./actor') as { Actor: { prototype: Record<Method, Fn> } }).Actor;

let originals: Record<Method, Fn> | undefined;

/** True while nact's prototype is wrapped. */
export function nactPatched(): boolean {
  return originals !== undefined;
}

/** Wraps nact's Actor prototype (once; a second call is a no-op). */
export function patchNact(h: NactHooks): void {
  if (originals) return;
  const proto = NactActorClass.prototype;
  const o = originals = Object.fromEntries(PATCHED_METHODS.map((m) => [m, proto[m]])) as Record<Method, Fn>;
  proto.initializeState = function initializeState(this: NactActor) {
    h.initialized(this);
    return o.initializeState.call(this);
  };
  proto.dispatch = function dispatch(this: NactActor, message: unknown, sender: unknown) {
    const wasBusy = this.busy;
    const r = o.dispatch.call(this, message, sender);
    if (wasBusy) { const tail = this.mailbox.peekBack(); if (tail) h.queued(this, tail); }
    return r;
  };
  proto.handleMessage = function handleMessage(this: NactActor, message: unknown, sender: unknown) {
    h.started(this);
    return o.handleMessage.call(this, message, sender);
  };
  proto.createContext = function createContext(this: NactActor, sender: unknown) {
    h.handling(this);
    return o.createContext.call(this, sender);
  };
  proto.processNext = function processNext(this: NactActor) {
    h.next(this);
    return o.processNext.call(this);
  };
  proto.handleFault = function handleFault(this: NactActor, msg: unknown, sender: unknown, error: unknown, child: unknown) {
    if (child !== undefined) return o.handleFault.call(this, msg, sender, error, child);
    h.crashed(this, msg, error);
    // The supervision policy's synchronous part (which counts the crash) has run when this returns.
    const decided = o.handleFault.call(this, msg, sender, error, child);
    h.crashHandled(this);
    return decided;
  };
  proto.stop = function stop(this: NactActor) {
    h.stopping(this);
    return o.stop.call(this);
  };
}

/** Puts nact's own methods back. */
export function unpatchNact(): void {
  if (!originals) return;
  Object.assign(NactActorClass.prototype, originals);
  originals = undefined;
}
