/**
 * The assumptions nact-patch.ts makes about nact's internals (pinned: nact ^7.6.2). When a new
 * nact breaks one, this fails before telemetry silently reports nothing.
 */
import * as fs from 'node:fs';
import { dispatch, spawn, start, stop } from 'nact';
import { NactActorClass, nactPatched, patchNact, PATCHED_METHODS, unpatchNact, type NactActor, type NactHooks } from './nact-patch';

const source = (m: string): string => String((NactActorClass.prototype as unknown as Record<string, () => void>)[m]);

describe("nact's internals as the telemetry patch uses them", () => {
  it('is nact 7 with every method the patch wraps', () => {
    const pkg = JSON.parse(fs.readFileSync(require.resolve('nact/package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toMatch(/^7\.(6|[7-9]|\d{2,})\./);
    for (const m of PATCHED_METHODS) expect(typeof (NactActorClass.prototype as unknown as Record<string, unknown>)[m]).toBe('function');
  });

  it('spawns through initializeState, queues while busy, runs handlers after createContext and then processNext', () => {
    const ctor = String(NactActorClass);
    expect(ctor.indexOf('childSpawned(this)')).toBeGreaterThan(-1);
    expect(ctor.indexOf('this.initializeState()')).toBeGreaterThan(ctor.indexOf('this.mailbox = new Queue()'));
    expect(source('dispatch')).toMatch(/if \(!this\.busy\)[\s\S]*handleMessage[\s\S]*mailbox\.push\(\{ message, sender \}\)/);
    expect(source('handleMessage')).toMatch(/setImmediate[\s\S]*this\.createContext\(sender\)[\s\S]*this\.f\.call[\s\S]*this\.processNext\(\)[\s\S]*handleFault/);
    expect(source('processNext')).toMatch(/this\.mailbox\.shift\(\)/);
    expect(source('reset')).toMatch(/this\.initializeState\(\)/);
    expect(source('handleFault')).toMatch(/this\.onCrash\(msg, error, ctx, child\)/);
  });

  it('calls every hook on a real actor, and unpatching restores the very same methods', async () => {
    const before = PATCHED_METHODS.map((m) => (NactActorClass.prototype as unknown as Record<string, unknown>)[m]);
    const seen: string[] = [];
    const note = (name: string) => (a: NactActor): void => { if (a.name === 'probe') seen.push(name); };
    const hooks: NactHooks = {
      initialized: note('initialized'), queued: note('queued'), started: note('started'), handling: note('handling'),
      next: note('next'), crashed: note('crashed'), crashHandled: note('crashHandled'), stopping: note('stopping'),
    };
    patchNact(hooks);
    expect(nactPatched()).toBe(true);
    const system = start();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const ref = spawn(system, async (s: number = 0, m: string) => {
      if (m === 'block') await gate;
      if (m === 'boom') throw new Error('boom');
      return s + 1;
    }, 'probe', { onCrash: (_m, _e, ctx) => ctx.resume });
    dispatch(ref, 'block');
    dispatch(ref, 'boom');
    expect(seen).toContain('queued');
    release();
    const deadline = Date.now() + 2000;
    while (!seen.includes('crashHandled') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    stop(ref);
    stop(system);
    unpatchNact();
    expect(nactPatched()).toBe(false);
    expect(new Set(seen)).toEqual(new Set(['initialized', 'queued', 'started', 'handling', 'next', 'crashed', 'crashHandled', 'stopping']));
    expect(PATCHED_METHODS.map((m) => (NactActorClass.prototype as unknown as Record<string, unknown>)[m])).toEqual(before);
  });
});
