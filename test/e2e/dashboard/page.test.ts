/**
 * The dashboard's page in a real browser against a fake feed server (fake-feed.ts): what the page
 * draws from snapshots and deltas, what it sends, the write link's token leaving the address bar,
 * read-only controls, the YAML conflict, the time scrubber, a workflow run's graph lighting up as
 * the run changes, and reconnecting after a drop. The
 * cluster tests (dashboard.test.ts) run the same page against a real control plane.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { ClientMessage, ProcessRow, TreeRow } from '../../../dashboard/protocol';
import { until } from '../../helpers/wait';
import { canRunBrowser, launchBrowser, type TestBrowser } from './browser';
import { FakeFeedServer } from './fake-feed';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a build script, CommonJS
const { bundleDashboard } = require('../../../scripts/bundle-dashboard.js') as { bundleDashboard(out: string): string[] };

/** The little of a DOM element the in-page functions below use (the tests' TypeScript has no DOM types). */
interface El { children: ArrayLike<El>; firstElementChild: El | null; setAttribute(k: string, v: string): void; getAttribute(k: string): string | null }

const describeBrowser = canRunBrowser() ? describe : describe.skip;
jest.setTimeout(120_000);

const row = (path: string, extra: Partial<TreeRow> = {}): TreeRow => ({
  key: `cp-a ${path}`, process: 'cp-a', path, name: path.split('/').pop() ?? path, kind: 'pod', system: false,
  since: new Date().toISOString(), depth: path.split('/').length - 2, mailbox: 0, rate: 0, restarts: 0, ...extra,
});
const proc: ProcessRow = {
  key: 'cp-a', process: 'cp-a', incarnation: 'i1', lastSeen: new Date().toISOString(),
  self: { pid: 42, role: 'control-plane', leading: true, actors: 3, cpuSeconds: 1.5, rssBytes: 80 * 2 ** 20, heapUsedBytes: 30 * 2 ** 20, eventLoopLagMs: 1.2 },
};
/** A Workflow: a Choice into a Parallel of two branches, or straight to the end. */
const wfSpec = {
  startAt: 'Check',
  states: {
    Check: { type: 'Choice', choices: [{ variable: '$.fan', booleanEquals: true, next: 'Fan' }], default: 'Done' },
    Fan: {
      type: 'Parallel', next: 'Done',
      branches: [
        { startAt: 'Step', states: { Step: { type: 'Task', function: 'work', end: true } } },
        { startAt: 'Other', states: { Other: { type: 'Pass', end: true } } },
      ],
    },
    Done: { type: 'Succeed' },
  },
};
const workflow = (name: string) => ({ apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: { name, namespace: 'default', uid: `wf-${name}`, resourceVersion: '3', generation: 1 }, spec: wfSpec });
const hist = (rows: [string, string][]) => rows.map(([type, path], i) => ({ seq: i + 1, time: '2026-12-01T10:00:00Z', type, path, detail: '' }));
const wfRun = (name: string, spec: object, status: object, rv = '7') => ({ apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name, namespace: 'default', uid: `run-${name}`, resourceVersion: rv, generation: 1 }, spec, status });
const detailOf = (object: object | null) => ({ object: object as never, conditions: [], owners: [], dependents: [], events: [] });

const pod = (rv: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: rv, generation: 1 }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });

describeBrowser('the dashboard page against a fake feed', () => {
  let dir: string;
  let fake: FakeFeedServer;
  let url: string;
  let b: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-dash-page-'));
    bundleDashboard(dir);
    fake = new FakeFeedServer(dir);
    url = await fake.start();
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await fake?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    page = await b.browser.newPage();
    page.setDefaultTimeout(10_000);
  });
  afterEach(async () => { await page.context().close(); });

  const sent = (pred: (m: ClientMessage) => boolean, what: string) => until(what, () => fake.received.map((r) => r.msg).find(pred), 10_000);
  const subOf = (topic: string) => until(`a ${topic} subscription`, () => fake.latestSub(topic), 10_000);

  it('draws the tree and process cards from a snapshot, adds rows from deltas, and hides system actors unless asked', async () => {
    await page.goto(`${url}#/actors`);
    await page.locator('#conn.conn-open').waitFor();
    expect(await page.textContent('#session')).toBe('read-only');
    const tree = await subOf('tree');
    expect(tree.msg).toMatchObject({ params: { topic: 'tree', hideSystem: true, sort: 'path', offset: 0, limit: 100 } });
    fake.send(tree.conn, { type: 'snapshot', sub: tree.sub, topic: 'tree', total: 2, offset: 0, rows: [row('/cp/pods'), row('/cp/pods/default$web', { object: { kind: 'Pod', namespace: 'default', name: 'web' }, mailbox: 7 })], processes: [proc] });
    await page.locator('table.actors tbody tr').nth(1).waitFor();
    expect(await page.textContent('.card.process')).toContain('leader');
    await expect(page.locator('table.actors a[href="#/object/pods/default/web"]').count()).resolves.toBe(1);
    fake.send(tree.conn, { type: 'delta', sub: tree.sub, topic: 'tree', upsert: [row('/cp/pods/default$db', { lastCrash: { at: new Date().toISOString(), error: 'boom', message: 'pod/reconcile' } })], total: 3 });
    await page.getByText('boom (handling pod/reconcile)').waitFor();
    expect(await page.textContent('.pager .range')).toBe('1-3 of 3');

    const entries = await page.evaluate('history.length');
    await page.locator('#hide-system').uncheck();
    await sent((m) => m.type === 'subscribe' && m.params.topic === 'tree' && m.params.hideSystem === false, 'a tree subscription showing system actors');
    // A filter is part of the link, but not a step of Back.
    expect(page.url()).toContain('system=1');
    expect(await page.evaluate('history.length')).toBe(entries);
  });

  it('draws a page of a 10,000-actor tree and redraws only the rows a delta changed', async () => {
    await page.goto(`${url}#/actors?sort=mailbox`);
    const tree = await subOf('tree');
    const rows = Array.from({ length: 100 }, (_, i) => row(`/cp/pods/default$p${String(i).padStart(3, '0')}`, { mailbox: 100 - i }));
    fake.send(tree.conn, { type: 'snapshot', sub: tree.sub, topic: 'tree', total: 10_000, offset: 0, rows, processes: [proc] });
    await page.locator('table.actors tbody tr').nth(99).waitFor();
    // Mark every row's first cell; a row that is redrawn or replaced loses its mark.
    await page.locator('table.actors tbody').evaluate((tb) => { for (const tr of Array.from((tb as unknown as El).children)) tr.firstElementChild?.setAttribute('data-mark', '1'); });
    const changed = [rows[3], rows[10]].map((r) => ({ ...r, mailbox: 9999 }));
    fake.send(tree.conn, { type: 'delta', sub: tree.sub, topic: 'tree', upsert: changed, order: [changed[0].key, changed[1].key, ...rows.map((r) => r.key).filter((k) => k !== changed[0].key && k !== changed[1].key)] });
    await page.locator('table.actors tbody tr').first().locator('td.num', { hasText: '9999' }).waitFor();
    const marks = await page.locator('table.actors tbody').evaluate((tb) => Array.from((tb as unknown as El).children).map((tr) => tr.firstElementChild?.getAttribute('data-mark') ?? null));
    expect(marks).toHaveLength(100);
    expect(marks.filter((m) => m === '1')).toHaveLength(98);
    expect(marks.slice(0, 2)).toEqual([null, null]);
    expect(await page.textContent('.pager .range')).toBe('1-100 of 10,000');
  });

  it('redeems a write link, takes the token out of the address bar, and enables writes', async () => {
    await page.goto(`${url}?token=good-token#/object/pods/default/web`);
    await page.locator('#session.write').waitFor();
    expect(fake.sessions).toContain('good-token');
    expect(page.url()).not.toContain('token');
    const obj = await subOf('object');
    fake.send(obj.conn, { type: 'snapshot', sub: obj.sub, topic: 'object', detail: { object: pod('5') as never, conditions: [], owners: [], dependents: [], events: [] } });
    await page.locator('pre.yaml').waitFor();
    expect(await page.locator('button[name=delete]').isEnabled()).toBe(true);
    // The entry with the token was replaced, not kept: Back leads to where the tab was before.
    await page.goBack();
    expect(page.url()).toBe('about:blank');
  });

  it('shows a stale edit as a conflict and reloads the current version on request', async () => {
    await page.goto(`${url}?token=good-token#/object/pods/default/web`);
    await page.locator('#session.write').waitFor();
    const obj = await subOf('object');
    fake.send(obj.conn, { type: 'snapshot', sub: obj.sub, topic: 'object', detail: { object: pod('5') as never, conditions: [], owners: [], dependents: [], events: [] } });
    await page.locator('button[name=edit]').click();
    await page.locator('textarea.yaml').fill(`${await page.locator('textarea.yaml').inputValue()}\n`);
    fake.send(obj.conn, { type: 'delta', sub: obj.sub, topic: 'object', object: pod('9') as never });
    await page.getByText('The object changed since you started editing (now resourceVersion 9)').waitFor();
    fake.answer = (m) => (m.type === 'apply' ? { type: 'error', id: m.id, error: { code: 'Conflict', message: 'pods "web": the object has been modified', resourceVersion: '9' } } : undefined);
    try {
      await page.locator('button[name=save]').click();
      await page.locator('.conflict').waitFor();
      expect(await page.textContent('.conflict')).toContain('the object is now at 9');
      const apply = await sent((m) => m.type === 'apply', 'the apply');
      expect(apply).toMatchObject({ resourceVersion: '5', namespace: 'default' });
      await page.locator('button[name=reload]').click();
      expect(await page.locator('textarea.yaml').inputValue()).toContain("resourceVersion: '9'");
    } finally {
      fake.answer = () => undefined;
    }
  });

  it('keeps write controls disabled on a read-only session, and shows the refusal of a forced delete', async () => {
    await page.goto(`${url}#/object/pods/default/web`);
    const obj = await subOf('object');
    fake.send(obj.conn, { type: 'snapshot', sub: obj.sub, topic: 'object', detail: { object: pod('5') as never, conditions: [], owners: [], dependents: [], events: [] } });
    await page.locator('pre.yaml').waitFor();
    expect(await page.locator('button[name=delete]').isDisabled()).toBe(true);
    expect(await page.locator('button[name=edit]').isDisabled()).toBe(true);
    expect(await page.textContent('.actions .readonly-note')).toBe('read-only: run `mk dashboard` for a write link');
    fake.answer = (m) => (m.type === 'delete' ? { type: 'error', id: m.id, error: { code: 'Forbidden', message: 'Permissions Violation for Publish to "mk.api.delete"' } } : undefined);
    try {
      await page.locator('button[name=delete]').evaluate((el) => el.removeAttribute('disabled'));
      await page.locator('button[name=delete]').click();
      await page.locator('button[name=confirm-delete]').click();
      await page.locator('.write-error').waitFor();
      // The object changing afterwards leaves the refusal on the page.
      fake.send(obj.conn, { type: 'delta', sub: obj.sub, topic: 'object', object: pod('6') as never });
      await page.locator('pre.yaml[data-resource-version="6"]').waitFor();
      expect(await page.textContent('.write-error')).toContain('Forbidden: Permissions Violation');
    } finally {
      fake.answer = () => undefined;
    }
  });

  it('asks the server for the past when the scrubber is set, and marks the page as the past', async () => {
    await page.goto(`${url}#/actors`);
    await page.locator('#conn.conn-open').waitFor();
    const at = new Date(Date.now() - 60_000).toISOString();
    fake.answer = (m) => (m.type === 'at' ? { type: 'result', id: m.id, value: { time: at, tree: { total: 1, offset: 0, rows: [row('/cp/pods/default$gone')] } } } : undefined);
    try {
      await page.locator('input[name=at]').fill(at);
      await page.locator('button[name=go-at]').click();
      await page.locator('#past').getByText(`Showing the past: ${at}`).waitFor();
      await page.locator('table.actors tbody tr').first().waitFor();
      expect(await page.textContent('table.actors tbody')).toContain('default$gone');
      expect(decodeURIComponent(page.url())).toContain(`at=${at}`);
      await page.locator('#past button.live').click();
      await page.locator('#past').waitFor({ state: 'hidden' });
    } finally {
      fake.answer = () => undefined;
    }
  });

  it('opens a link to the past in a new tab: the request waits for the feed, then shows the past', async () => {
    const at = new Date(Date.now() - 120_000).toISOString();
    fake.answer = (m) => (m.type === 'at' ? { type: 'result', id: m.id, value: { time: at, tree: { total: 1, offset: 0, rows: [row('/cp/pods/default$then')] } } } : undefined);
    try {
      await page.goto(`${url}#/actors?system=1&at=${encodeURIComponent(at)}`);
      await page.getByText('default$then').waitFor();
      expect(await page.textContent('#past')).toContain(`Showing the past: ${at}`);
    } finally {
      fake.answer = () => undefined;
    }
  });

  it('watches a raw subject, and shows a refusal naming the subject', async () => {
    await page.goto(`${url}#/subject?s=${encodeURIComponent('mk.events.>')}`);
    const sub = await subOf('subject');
    expect(sub.msg).toMatchObject({ params: { topic: 'subject', subject: 'mk.events.>' } });
    fake.send(sub.conn, { type: 'snapshot', sub: sub.sub, topic: 'subject', subject: 'mk.events.>' });
    fake.send(sub.conn, { type: 'delta', sub: sub.sub, topic: 'subject', messages: [{ subject: 'mk.events.default.pod.x', data: '{"reason":"Started"}', received: new Date().toISOString() }] });
    await page.locator('.messages li', { hasText: '{"reason":"Started"}' }).waitFor();
    fake.answer = (m) => (m.type === 'subscribe' && m.params.topic === 'subject'
      ? { type: 'error', id: m.id, error: { code: 'Forbidden', message: 'Permissions Violation for Subscription to "mk.secret.>"', subject: 'mk.secret.>' } } : undefined);
    try {
      await page.locator('input[name=subject]').fill('mk.secret.>');
      await page.locator('button[name=watch]').click();
      await page.locator('.status .error', { hasText: 'mk.secret.>' }).waitFor();
    } finally {
      fake.answer = () => undefined;
    }
  });

  it('lists the objects whose controller is behind, with links, and drops one that caught up', async () => {
    await page.goto(`${url}#/lag`);
    const lag = await subOf('lag');
    fake.send(lag.conn, { type: 'snapshot', sub: lag.sub, topic: 'lag', total: 1, offset: 0, rows: [{ key: 'deployments/default/web', kind: 'Deployment', namespace: 'default', name: 'web', generation: 5, observedGeneration: 3 }] });
    const cells = page.locator('table.lag tbody tr').first().locator('td');
    await cells.nth(5).waitFor();
    expect(await cells.allTextContents()).toEqual(['Deployment', 'default', 'web', '5', '3', '2']);
    await expect(page.locator('table.lag a[href="#/object/deployments/default/web"]').count()).resolves.toBe(1);
    fake.send(lag.conn, { type: 'delta', sub: lag.sub, topic: 'lag', remove: ['deployments/default/web'], total: 0 });
    await page.getByText('Nothing is behind.').waitFor();
  });

  const objectSub = (kind: string, name: string) => until(`an object subscription of ${kind}/${name}`, () => [...fake.subs].reverse()
    .find((s) => s.msg.type === 'subscribe' && s.msg.params.topic === 'object' && s.msg.params.kind === kind && s.msg.params.name === name), 10_000);
  const nodeStates = () => page.locator('svg.wf-graph g.wf-node').evaluateAll((els) => els.map((e) => (e as unknown as El).getAttribute('data-state')));
  const statusOf = (id: string) => page.locator(`svg.wf-graph g.wf-node[data-state="${id}"]`).getAttribute('data-status');

  it('draws a run\'s states from the Workflow it names, and a running state turns succeeded as the run changes', async () => {
    await page.goto(`${url}#/object/workflowruns/default/run-a`);
    const run = await objectSub('workflowruns', 'run-a');
    fake.send(run.conn, { type: 'snapshot', sub: run.sub, topic: 'object', detail: detailOf(wfRun('run-a', { workflowRef: { name: 'fan' }, input: { fan: true } },
      { phase: 'Running', currentStates: ['Check#1'], history: hist([['RunStarted', ''], ['StateEntered', 'Check#1']]) })) });
    // The page reads the Workflow through the same feed, read-only.
    const wf = await objectSub('workflows', 'fan');
    expect(wf.msg).toMatchObject({ params: { topic: 'object', kind: 'workflows', namespace: 'default', name: 'fan' } });
    fake.send(wf.conn, { type: 'snapshot', sub: wf.sub, topic: 'object', detail: detailOf(workflow('fan')) });
    await page.locator('svg.wf-graph g.wf-node[data-state="Check"][data-status="running"]').waitFor();
    expect((await nodeStates()).sort()).toEqual(['Check', 'Done', 'Fan', 'Fan/0/Step', 'Fan/1/Other']);
    expect(await statusOf('Fan')).toBe('not-reached');
    expect(await page.locator('svg.wf-graph g.wf-group').count()).toBe(2);
    expect(await page.locator('svg.wf-graph .wf-edge-default .wf-edge-label').textContent()).toBe('default');
    expect(await page.locator('svg.wf-graph .wf-edge-choice .wf-edge-label').textContent()).toBe('$.fan == true');
    expect(await page.locator('.wf-legend li').allTextContents()).toEqual(['running', 'succeeded', 'failed', 'not reached']);
    expect(await page.textContent('.wf-phase')).toBe('Running');
    expect(await page.textContent('.wf-current')).toBe('Check#1');
    // A colour change redraws no node: mark Check's box and find the mark after the change.
    await page.locator('svg.wf-graph g.wf-node[data-state="Check"]').evaluate((el) => (el as unknown as El).setAttribute('data-mark', '1'));

    fake.send(run.conn, { type: 'delta', sub: run.sub, topic: 'object', object: wfRun('run-a', { workflowRef: { name: 'fan' }, input: { fan: true } },
      { phase: 'Running', currentStates: ['Fan#1', 'Fan#1/0/Step#1'], history: hist([['RunStarted', ''], ['StateEntered', 'Check#1'], ['StateExited', 'Check#1'], ['StateEntered', 'Fan#1'], ['StateEntered', 'Fan#1/0/Step#1'], ['StateEntered', 'Fan#1/1/Other#1'], ['StateExited', 'Fan#1/1/Other#1']]) }, '8') as never });
    await page.locator('svg.wf-graph g.wf-node[data-state="Check"][data-status="succeeded"]').waitFor();
    expect(await page.locator('svg.wf-graph g.wf-node[data-state="Check"]').getAttribute('data-mark')).toBe('1');
    expect(await statusOf('Fan')).toBe('running');
    expect(await statusOf('Fan/0/Step')).toBe('running');
    expect(await statusOf('Fan/1/Other')).toBe('succeeded');
    expect(await statusOf('Done')).toBe('not-reached');
    expect(await page.textContent('.wf-current')).toBe('Fan#1, Fan#1/0/Step#1');

    fake.send(run.conn, { type: 'delta', sub: run.sub, topic: 'object', object: wfRun('run-a', { workflowRef: { name: 'fan' }, input: { fan: true } },
      { phase: 'Succeeded', currentStates: [], output: { total: 42 }, history: hist([['StateExited', 'Check#1'], ['StateExited', 'Fan#1/0/Step#1'], ['StateExited', 'Fan#1/1/Other#1'], ['StateExited', 'Fan#1'], ['StateExited', 'Done#1'], ['RunSucceeded', '']]) }, '9') as never });
    await page.locator('.wf-phase', { hasText: 'Succeeded' }).waitFor();
    for (const id of ['Check', 'Fan', 'Fan/0/Step', 'Done']) expect(await statusOf(id)).toBe('succeeded');
    expect(await page.textContent('.wf-output')).toContain('"total": 42');
  });

  it('colours an inline run\'s failed state and shows its error; a Workflow\'s own page draws the graph without run colours', async () => {
    await page.goto(`${url}#/object/workflowruns/default/run-b`);
    const run = await objectSub('workflowruns', 'run-b');
    fake.send(run.conn, { type: 'snapshot', sub: run.sub, topic: 'object', detail: detailOf(wfRun('run-b', { workflow: wfSpec, input: { fan: true } },
      { phase: 'Failed', currentStates: [], error: { error: 'Boom', cause: 'work broke' }, history: hist([['StateExited', 'Check#1'], ['StateFailed', 'Fan#1/0/Step#1'], ['StateFailed', 'Fan#1'], ['RunFailed', '']]) })) });
    await page.locator('svg.wf-graph g.wf-node[data-state="Fan/0/Step"][data-status="failed"]').waitFor();
    expect(await statusOf('Fan')).toBe('failed');
    expect(await statusOf('Check')).toBe('succeeded');
    expect(await page.textContent('.wf-error')).toBe('Boom: work broke');
    // An inline spec needs no Workflow: nothing else was subscribed for this run.
    expect(fake.subs.some((s) => s.msg.type === 'subscribe' && s.msg.params.topic === 'object' && s.msg.params.kind === 'workflows' && s.conn === run.conn)).toBe(false);

    await page.goto(`${url}#/object/workflows/default/plain`);
    const wf = await objectSub('workflows', 'plain');
    fake.send(wf.conn, { type: 'snapshot', sub: wf.sub, topic: 'object', detail: detailOf(workflow('plain')) });
    await page.locator('svg.wf-graph g.wf-node[data-state="Fan/1/Other"]').waitFor();
    expect(await page.locator('svg.wf-graph g.wf-node[data-status]').count()).toBe(0);
    expect(await page.locator('.wf-legend').count()).toBe(0);
    expect(await page.locator('.wf-phase').count()).toBe(0);
  });

  it('says when a run\'s Workflow is missing, and when it no longer has the spec the run pinned', async () => {
    await page.goto(`${url}#/object/workflowruns/default/run-c`);
    const run = await objectSub('workflowruns', 'run-c');
    fake.send(run.conn, { type: 'snapshot', sub: run.sub, topic: 'object', detail: detailOf(wfRun('run-c', { workflowRef: { name: 'edited' } },
      { phase: 'Running', specHash: '0'.repeat(64), currentStates: ['Check#1'], history: hist([['RunStarted', ''], ['StateEntered', 'Check#1']]) })) });
    const wf = await objectSub('workflows', 'edited');
    fake.send(wf.conn, { type: 'snapshot', sub: wf.sub, topic: 'object', detail: detailOf(null) });
    await page.locator('.wf-missing').waitFor();
    expect(await page.locator('svg.wf-graph').count()).toBe(0);
    fake.send(wf.conn, { type: 'delta', sub: wf.sub, topic: 'object', object: workflow('edited') as never });
    await page.locator('svg.wf-graph g.wf-node[data-state="Check"][data-status="running"]').waitFor();
    await page.locator('.wf-changed').waitFor();
    expect(await page.textContent('.wf-changed')).toContain('Workflow edited changed since this run started');
    expect(await page.locator('.wf-missing').count()).toBe(0);
  });

  it('shows a dropped feed, reconnects with backoff and subscribes again', async () => {
    await page.goto(`${url}#/actors`);
    await page.locator('#conn.conn-open').waitFor();
    const first = await subOf('tree');
    fake.dropAll();
    await page.locator('#conn.conn-closed, #conn.conn-connecting').waitFor();
    const again = await until('a new tree subscription on a new connection', () => {
      const s = fake.latestSub('tree');
      return s && s.conn !== first.conn ? s : undefined;
    }, 15_000);
    await page.locator('#conn.conn-open').waitFor();
    fake.send(again.conn, { type: 'snapshot', sub: again.sub, topic: 'tree', total: 1, offset: 0, rows: [row('/cp/after')], processes: [proc] });
    await page.getByText('after', { exact: true }).waitFor();
  });
});
