/**
 * A process's actor feed on a real nats-server: lifecycle batches, stats deltas, paged snapshots,
 * censuses in MK_ACTORS and the tree at a past moment, a server restart mid-feed, and a burst of
 * spawns coalesced into a few messages.
 */
import { dispatch, spawn, start, stop, type Ref } from 'nact';
import { actorTreeAt } from '../../../bus/actor-history';
import { ensureActorStream } from '../../../bus/actor-stream';
import { startActorFeed, type ActorFeed } from '../../../bus/actor-feed';
import { connectBus, type Bus } from '../../../bus/connection';
import { decode, request } from '../../../bus/request';
import { describeActor } from '../../../common/actor-telemetry';
import {
  ACTOR_STREAM, actorSubject, telemetryProcess, type ActorCensus, type ActorLifecycle, type ActorLifecycleBatch, type ActorSnapshotReply,
  type ActorStatsBatch,
} from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(30_000);

const PROC = telemetryProcess('control-plane', 'test.host_1');

describe('actor feed', () => {
  let server: NatsServer;
  let bus: Bus;
  let watcher: Bus;
  let feed: ActorFeed;
  let system: Ref<unknown>;
  const lifecycle: ActorLifecycleBatch[] = [];
  const stats: ActorStatsBatch[] = [];
  const censuses: ActorCensus[] = [];
  const events = (): ActorLifecycle[] => lifecycle.flatMap((b) => b.events);
  const has = (type: string, path: string): true | undefined =>
    events().some((e) => e.type === type && ('actor' in e ? e.actor.path : e.path) === path) || undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'actor-feed-test' });
    watcher = await connectBus({ servers: server.url, name: 'actor-feed-watcher' });
    await ensureActorStream(bus);
    watcher.nc.subscribe(`mk.sys.actor.${PROC}.*`, {
      callback: (_err, m) => {
        if (m.subject.endsWith('.lifecycle')) lifecycle.push(decode(m.data));
        else if (m.subject.endsWith('.stats')) stats.push(decode(m.data));
        else if (m.subject.endsWith('.census')) censuses.push(decode(m.data));
      },
    });
    await watcher.nc.flush();
    feed = startActorFeed(bus, { process: PROC, role: 'control-plane', leading: () => true, lifecycleMs: 50, statsMs: 200 });
    await feed.ready;
    system = start('feed-test');
  });
  afterAll(async () => {
    if (system) stop(system);
    await feed?.stop();
    await watcher?.close();
    await bus?.close();
    await server?.stop();
  });

  it('publishes spawns, crashes, restarts and stops as they happen', async () => {
    await until('the census at start', () => censuses[0]);
    expect(censuses[0]).toMatchObject({ process: PROC, incarnation: feed.incarnation });
    const sup = spawn(system, (s: number = 0) => s, 'pods');
    describeActor(sup, { kind: 'pod-supervisor' });
    const pod = spawn(sup, (s: number = 0, m: { type: string }) => { if (m.type === 'pod/boom') throw new Error('no sandbox'); return s + 1; },
      'default$web', { onCrash: (_m, _e, ctx) => ctx.reset });
    describeActor(pod, { kind: 'pod', system: false, object: { kind: 'Pod', namespace: 'default', name: 'web' } });
    dispatch(pod, { type: 'pod/boom' });
    await until('the restart', () => has('restarted', '/pods/default$web'), 5000);
    stop(sup);
    await until('the stops', () => has('stopped', '/pods/default$web'), 5000);
    const mine = events().filter((e) => ('actor' in e ? e.actor.path : e.path).startsWith('/pods'));
    expect(mine.map((e) => e.type)).toEqual(['spawned', 'spawned', 'crashed', 'restarted', 'stopped', 'stopped']);
    expect(mine[1]).toMatchObject({ actor: { path: '/pods/default$web', parent: '/pods', kind: 'pod', system: false, object: { name: 'web' } } });
    expect(mine[2]).toMatchObject({ type: 'crashed', restarts: 1, crash: { error: 'no sandbox', message: 'pod/boom' } });
    // Seqs count up without gaps.
    const seqs = events().map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  });

  it('sends stats of the changed actors only, with the process figures', async () => {
    const busy = spawn(system, async (s: number = 0) => s + 1, 'busy');
    spawn(system, (s: number = 0) => s, 'idle');
    await until('both spawns', () => has('spawned', '/idle'), 5000);
    const from = stats.length;
    for (let i = 0; i < 20; i++) dispatch(busy, 'tick');
    // The 20 may straddle two intervals: together they count 20.
    const handled = (): number => stats.slice(from).flatMap((b) => b.actors).filter((a) => a.path === '/busy').reduce((n, a) => n + a.handled, 0);
    await until('stats of 20 messages of /busy', () => (handled() === 20 ? true : undefined), 5000);
    // The batch that completes the 20 was taken after the last message: its mailbox is empty (an
    // earlier batch may have caught the mailbox mid-way).
    const withBusy = stats.slice(from).filter((b) => b.actors.some((a) => a.path === '/busy')).at(-1)!;
    expect(withBusy.actors.find((a) => a.path === '/busy')).toMatchObject({ mailbox: 0, restarts: 0 });
    expect(stats.slice(from).some((b) => b.actors.some((a) => a.path === '/idle'))).toBe(false);
    expect(withBusy.self).toMatchObject({ pid: process.pid, role: 'control-plane', leading: true });
    expect(withBusy.self.actors).toBeGreaterThanOrEqual(2);
    expect(withBusy.self.rssBytes).toBeGreaterThan(0);
    // Nothing moved since: the next batches name no actor.
    const after = stats.length;
    const quiet = await until('a quiet stats batch', () => stats.slice(after).find((b) => b.actors.length === 0), 5000);
    expect(quiet.self.cpuSeconds).toBeGreaterThan(0);
  });

  it('answers paged snapshots, and refuses a bad page', async () => {
    for (let i = 0; i < 12; i++) spawn(system, (s: number = 0) => s, `page-${i}`);
    const all = await request<ActorSnapshotReply>(watcher, actorSubject(PROC, 'snapshot'), {});
    const total = all.total;
    expect(all.actors).toHaveLength(total);
    expect(all.actors.map((a) => a.path)).toEqual(expect.arrayContaining(['/page-0', '/page-11', '/busy']));
    expect(all.actors.find((a) => a.path === '/busy')?.stats?.handled).toBeGreaterThan(0);
    const page = await request<ActorSnapshotReply>(watcher, actorSubject(PROC, 'snapshot'), { offset: total - 5, limit: 3 });
    expect(page).toMatchObject({ process: PROC, incarnation: feed.incarnation, total });
    expect(page.actors.map((a) => a.path)).toEqual(all.actors.slice(total - 5, total - 2).map((a) => a.path));
    await expect(request(watcher, actorSubject(PROC, 'snapshot'), { limit: 0 })).rejects.toThrow(/limit must be/);
  });

  it('keeps censuses in MK_ACTORS and rebuilds the tree at a moment between two spawns', async () => {
    spawn(system, (s: number = 0) => s, 'first');
    await until('the first spawn', () => has('spawned', '/first'), 5000);
    const between = Date.now();
    await until('a later millisecond', () => (Date.now() > between + 1 ? true : undefined));
    spawn(system, (s: number = 0) => s, 'second');
    await until('the second spawn', () => has('spawned', '/second'), 5000);
    const { state } = await bus.jsm.streams.info(ACTOR_STREAM);
    expect(state.messages).toBeGreaterThanOrEqual(2);
    const [tree] = await actorTreeAt(bus, between, PROC);
    const paths = tree!.actors.map((a) => a.path);
    expect(paths).toContain('/first');
    expect(paths).toContain('/busy');
    expect(paths).not.toContain('/second');
    expect(paths).not.toContain('/pods');
    const [now] = await actorTreeAt(bus, Date.now(), PROC);
    expect(now!.actors.map((a) => a.path)).toContain('/second');
  });

  it('resumes after the server restarts and sends a census', async () => {
    const restarted = Date.now();
    await server.restart();
    const census = await until('a census in the stream after the restart', async () => {
      const m = await bus.jsm.streams.getMessage(ACTOR_STREAM, { last_by_subj: actorSubject(PROC, 'census') }).catch(() => null);
      return m && m.timestamp && Date.parse(m.timestamp) > restarted ? decode<ActorCensus>(m.data) : undefined;
    }, 15_000, 100);
    expect(census.actors.map((a) => a.path)).toContain('/second');
    spawn(system, (s: number = 0) => s, 'after-restart');
    await until('a spawn after the restart', () => has('spawned', '/after-restart'), 10_000);
  });

  it('coalesces a burst of 2,000 spawns into a few batches with every spawn', async () => {
    const from = lifecycle.length;
    const parent = spawn(system, (s: number = 0) => s, 'burst');
    for (let i = 0; i < 2000; i++) spawn(parent, (s: number = 0) => s, `b${i}`);
    await until('every spawn of the burst', () => (events().filter((e) => e.type === 'spawned' && e.actor.parent === '/burst').length === 2000 ? true : undefined), 10_000);
    const batches = lifecycle.slice(from).filter((b) => b.events.some((e) => e.type === 'spawned' && e.actor.parent === '/burst'));
    expect(batches.length).toBeLessThanOrEqual(6);
    const names = new Set(batches.flatMap((b) => b.events).flatMap((e) => (e.type === 'spawned' ? [e.actor.name] : [])));
    for (let i = 0; i < 2000; i++) expect(names.has(`b${i}`)).toBe(true);
  });
});
