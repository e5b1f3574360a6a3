/**
 * Actors: every process's supervision tree, live (a web observer). Process cards on top (CPU,
 * memory, event-loop lag, leader), a heat map of the hottest actors by backlog with the top ten
 * listed, then the tree itself (path order, indented) or sorted by a figure, paged by the server.
 * With a scrubber time, the tree as it was then (the server's `at`), without figures.
 */
import type { AtResult, ProcessRow, SnapshotFrame, DeltaFrame, TreeRow } from '../../../protocol';
import type { View } from '../context';
import { h, replace, type Child } from '../dom';
import { errorOf } from '../feed';
import * as fmt from '../format';
import { frameScheduler, renderRows } from '../keyed';
import type { ActorSort, Route } from '../router';
import { TableState } from '../table';
import { actorLink, crashText, errorLine, figureCells, heatColour, keptLink, PAGE_SIZE, pager } from './shared';

type ActorsRoute = Extract<Route, { view: 'actors' }>;

const HOT_N = 60;
/** Process cards drawn at most (the menu lists them all). */
const MAX_CARDS = 24;

/**
 * A process's CPU use as a share of one core, from two of its reports: the CPU seconds it spent
 * between them over the seconds between them. Undefined until there are two. Pure.
 */
export class CpuRates {
  private readonly last = new Map<string, { cpu: number; t: number; share?: number }>();

  /** Takes a report (`at`: when it was seen, ms) and returns the latest share. */
  observe(p: ProcessRow, at: number = Date.parse(p.lastSeen)): number | undefined {
    const prev = this.last.get(p.key);
    if (!p.self) return prev?.share;
    if (!prev || p.self.cpuSeconds < prev.cpu) {
      this.last.set(p.key, { cpu: p.self.cpuSeconds, t: at });
      return undefined;
    }
    if (at - prev.t < 500) return prev.share;
    const share = (p.self.cpuSeconds - prev.cpu) / ((at - prev.t) / 1000);
    this.last.set(p.key, { cpu: p.self.cpuSeconds, t: at, share });
    return share;
  }

  forget(key: string): void {
    this.last.delete(key);
  }
}

function processCard(p: ProcessRow, now: number, cpuShare: number | undefined): HTMLElement {
  const s = p.self;
  return h('div', { class: 'card process', 'data-process': p.process },
    h('h2', {}, p.process, s?.leading ? h('span', { class: 'badge write', title: 'holds the leader lease' }, ' leader') : ''),
    h('dl', {},
      h('dt', {}, 'role'), h('dd', {}, s?.role ?? ''),
      h('dt', {}, 'pid'), h('dd', {}, s ? String(s.pid) : ''),
      h('dt', {}, 'actors'), h('dd', {}, s ? s.actors.toLocaleString('en') : ''),
      h('dt', {}, 'CPU'), h('dd', {}, s ? `${cpuShare === undefined ? '' : `${Math.round(cpuShare * 100)}% of a core, `}${s.cpuSeconds.toFixed(1)} s in all` : ''),
      h('dt', {}, 'memory'), h('dd', {}, s ? `${fmt.bytes(s.rssBytes)} RSS, ${fmt.bytes(s.heapUsedBytes)} heap` : ''),
      h('dt', {}, 'event-loop lag'), h('dd', {}, s ? fmt.ms(s.eventLoopLagMs) : ''),
      h('dt', {}, 'last seen'), h('dd', {}, `${fmt.age(p.lastSeen, now)} ago`)));
}

function treeCells(r: TreeRow, at?: string): Child[] {
  return [
    h('td', { class: 'path' }, h('span', { class: 'tree-indent', style: `width:${r.depth * 14}px` }), actorLink(r, at, r.name || r.path)),
    r.kind + (r.system ? ' (system)' : ''),
    keptLink(r.object, at),
    ...(at ? [] : figureCells(r)),
    h('td', { class: 'crash error' }, crashText(r)),
    r.process,
  ];
}

/** The Actors view. */
export const actorsView: View = (root, ctx) => {
  const route = ctx.route as ActorsRoute;
  const go = (r: Partial<ActorsRoute>): void => ctx.replace({ ...route, ...r });
  const tree = new TableState<TreeRow>();
  const hot = new TableState<TreeRow>();
  const processes = new Map<string, ProcessRow>();
  const cpu = new CpuRates();
  const shares = new Map<string, number | undefined>();
  const seen = (p: ProcessRow): void => { processes.set(p.key, p); shares.set(p.key, cpu.observe(p)); };
  const status = h('div', { class: 'status' });
  const cards = h('div', { class: 'grid processes' });
  const heat = h('div', { class: 'heat', 'aria-label': 'actors by backlog' });
  const hotList = h('ol', { class: 'hot-list' });
  const tbody = h('tbody', {});
  const pagerBox = h('div', {});

  const search = h('input', { type: 'search', placeholder: 'search path, kind, object', value: route.search ?? '', name: 'search' });
  search.addEventListener('change', () => go({ search: search.value || undefined, page: 0 }));
  const sort = h('select', { name: 'sort', onchange: (e) => go({ sort: (e.target as HTMLSelectElement).value as ActorSort, page: 0 }) },
    ...(['path', 'mailbox', 'rate', 'p99', 'restarts'] as const).map((s) => h('option', { value: s, selected: route.sort === s }, `sort: ${s}`)));
  const processSel = h('select', { name: 'process', onchange: (e) => go({ process: (e.target as HTMLSelectElement).value || undefined, page: 0 }) },
    h('option', { value: '' }, 'all processes'));
  const hide = h('input', { type: 'checkbox', id: 'hide-system', checked: !route.showSystem, onchange: (e) => go({ showSystem: !(e.target as HTMLInputElement).checked, page: 0 }) });

  replace(root,
    h('h1', {}, route.at ? 'Actors (as they were)' : 'Actors'),
    cards,
    route.at ? '' : [h('h2', {}, 'Hottest actors by backlog'), heat, hotList],
    h('h2', {}, 'Tree'),
    h('div', { class: 'toolbar' }, processSel, search, route.at ? '' : sort, h('label', {}, hide, ' hide system actors')),
    status,
    h('table', { class: 'actors' },
      h('thead', {}, h('tr', {}, h('th', {}, 'actor'), h('th', {}, 'kind'), h('th', {}, 'keeps'),
        ...(route.at ? [] : [h('th', { class: 'num' }, 'mailbox'), h('th', { class: 'num' }, 'msgs/s'), h('th', { class: 'num' }, 'mean'),
          h('th', { class: 'num' }, 'p99'), h('th', { class: 'num' }, 'restarts')]),
        h('th', {}, 'last crash'), h('th', {}, 'process'))),
      tbody),
    pagerBox);

  const now = () => Date.now();
  let menuOf = '';
  const renderProcesses = frameScheduler((): void => {
    // Control planes first (the leader first), then nodes; at most MAX_CARDS cards.
    const rank = (p: ProcessRow): number => (p.self?.leading ? 0 : p.self?.role === 'control-plane' || p.process.startsWith('cp-') ? 1 : 2);
    const list = [...processes.values()].sort((a, b) => rank(a) - rank(b) || a.process.localeCompare(b.process));
    replace(cards, ...list.slice(0, MAX_CARDS).map((p) => processCard(p, now(), shares.get(p.key))),
      list.length > MAX_CARDS ? h('p', { class: 'muted' }, `and ${list.length - MAX_CARDS} more processes: choose one in the menu`) : '');
    const names = list.map((p) => p.process).sort();
    if (names.join(' ') === menuOf) return;
    menuOf = names.join(' ');
    replace(processSel, h('option', { value: '' }, 'all processes'),
      ...names.map((p) => h('option', { value: p, selected: route.process === p }, p)));
  });
  const render = frameScheduler(() => {
    renderRows(tbody, tree.rows(), (r) => r.key, (r) => treeCells(r, route.at));
    replace(pagerBox, pager(route.page, PAGE_SIZE, tree.total, (page) => go({ page })));
    const hotRows = hot.rows();
    replace(heat, ...hotRows.map((r) => actorLink(r, undefined, '')).map((a, i) => {
      const r = hotRows[i];
      a.style.background = heatColour(r.mailbox ?? 0);
      a.title = `${r.process} ${r.path}: mailbox ${r.mailbox ?? 0}, ${fmt.rate(r.rate)}`;
      return a;
    }));
    const backlogged = hotRows.filter((r) => (r.mailbox ?? 0) > 0);
    replace(hotList, ...backlogged.slice(0, 10).map((r) => h('li', {}, actorLink(r), ` mailbox ${r.mailbox ?? 0}, ${fmt.rate(r.rate)}, p99 ${fmt.ms(r.p99Ms)}`)));
    if (backlogged.length === 0) replace(hotList, h('li', { class: 'muted' }, 'No actor has messages waiting.'));
  });

  const onTree = (f: SnapshotFrame | DeltaFrame): void => {
    if (f.topic !== 'tree') return;
    if (f.type === 'snapshot') {
      tree.snapshot(f);
      processes.clear();
      for (const p of f.processes ?? []) seen(p);
      renderProcesses();
    } else {
      tree.delta(f);
      if (f.processes) {
        for (const p of f.processes.upsert ?? []) seen(p);
        for (const k of f.processes.remove ?? []) { processes.delete(k); cpu.forget(k); }
        renderProcesses();
      }
    }
    replace(status);
    render();
  };
  const onHot = (f: SnapshotFrame | DeltaFrame): void => {
    if (f.topic !== 'hot') return;
    if (f.type === 'snapshot') hot.snapshot(f); else hot.delta(f);
    render();
  };

  if (route.at) {
    // The past: one answer, no live figures.
    let alive = true;
    ctx.feed.request({ type: 'at', time: route.at, process: route.process, offset: route.page * PAGE_SIZE, limit: PAGE_SIZE })
      .then((r) => {
        if (!alive) return;
        const v = r.value as AtResult;
        const rows = route.search ? v.tree.rows.filter((a) => `${a.path} ${a.kind} ${a.object?.name ?? ''}`.toLowerCase().includes(route.search!.toLowerCase())) : v.tree.rows;
        tree.snapshot({ rows: route.showSystem ? rows : rows.filter((a) => !a.system), total: v.tree.total, offset: v.tree.offset });
        const procs = new Set(v.tree.rows.map((a) => a.process));
        for (const p of procs) processes.set(p, { key: p, process: p, incarnation: '', lastSeen: v.time });
        renderProcesses();
        render();
      }, (e: unknown) => { if (alive) replace(status, errorLine(errorOf(e))); });
    return () => { alive = false; };
  }

  const base = { process: route.process, hideSystem: !route.showSystem };
  const treeSub = ctx.feed.subscribe({ topic: 'tree', ...base, search: route.search, sort: route.sort, offset: route.page * PAGE_SIZE, limit: PAGE_SIZE },
    onTree, (e) => replace(status, errorLine(e)));
  const hotSub = ctx.feed.subscribe({ topic: 'hot', by: 'mailbox', n: HOT_N, ...base }, onHot, (e) => replace(status, errorLine(e)));
  const cardsTimer = setInterval(renderProcesses, 5000);
  return () => { treeSub.close(); hotSub.close(); clearInterval(cardsTimer); };
};
