/**
 * `npm run bench -- dashboard [--rounds R] [--changes N] [--gap-ms G]`: from a pod's status
 * written to the store until the dashboard's page shows it. No root, no node: a nats-server (with
 * the roles a dashboard needs, and a websocket listener) and the real `mk control-plane` serving
 * its dashboard (control-plane-env.ts); the bench writes the statuses itself through
 * mk.api.update-status as the admin, as a node agent's reports would change them.
 *
 * Up to 100 pods (one page of the objects view) are made bound to a node that does not exist, so
 * nothing else writes them. Each change sets `status.reason` (the STATUS column) to a marker with a
 * counter; the write's time is Date.now() just before the request. Three observers see every
 * change, at the same time:
 * - the page: dist/dashboard/web served by the control plane, in Debian's headless Chromium driven
 *   by playwright-core, on the objects view of the benchmark's pods; a MutationObserver notes
 *   Date.now() when a row first shows a marker (browser and bench share the machine's clock);
 * - the baseline: a plain NATS subscriber of mk.watch.pods in the bench process (the bus's own
 *   latency);
 * - the alternative the architecture chose against: a NATS client in a second tab of the same
 *   browser, connected to nats-server's websocket listener (@nats-io/nats-core's wsconnect,
 *   bundled with esbuild), subscribed to the same subject.
 * Paced: one change at a time, each awaited by all observers, then a pause of G ms (default 50)
 * plus a random part up to 250 ms (longer than the server's 100 ms delta tick). Burst: one change to every pod at once,
 * repeated until N changes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { decode, request, type Bus } from '../../bus';
import { API, type ApplyResult, type Pod, type WatchEvent } from '../../messages';
import { startControlPlaneEnv, type ControlPlaneEnv } from './control-plane-env';
import {
  formatDashboard, PHASES, type DashboardResult, type DashboardRound, type Phase, type PhaseSamples,
} from './dashboard-report';
import { intFlag } from './flags';
import { waitForQuietCpu } from './quiet';

/** Debian's chromium package, and the launch flags of ENVIRONMENT.md. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const LABEL = { key: 'bench', value: 'dashboard' } as const;
/** A node that does not exist: bound pods are left alone by the scheduler and every node agent. */
const NODE = 'bench-dashboard-none';
/** How long a change may take to be seen by every observer. */
const SEEN_DEADLINE_MS = 15_000;
const QUIET = { deadlineMs: 20_000 };
/** The random part of the pause between paced changes: longer than the server's delta tick (100 ms). */
const PACE_JITTER_MS = 250;
/** Marker of change `i`: the only thing in a row that looks like it. */
const marker = (i: number) => `BenchMark${i}x`;
const MARKER_RE = /BenchMark\d+x/g;

/** Chromium, launched through a wrapper that records its pid, so that close() kills it by pid. */
async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bench-chromium-'));
  const exe = path.join(dir, 'chromium');
  const pidFile = path.join(dir, 'pid');
  fs.writeFileSync(exe, `#!/bin/sh\necho $$ > ${pidFile}\nexec ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  const close = async (browser?: Browser) => {
    await browser?.close().catch(() => undefined);
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
    if (pid > 0) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, timeout: 60_000 });
    return { browser, close: () => close(browser) };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A bundle of nats-core's websocket client for the browser (globalThis.natsws), or why there is none. */
function natsBrowserBundle(): string | { skipped: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a build tool, loaded only here
    const esbuild = require('esbuild') as typeof import('esbuild');
    const r = esbuild.buildSync({
      stdin: { contents: 'export { wsconnect } from "@nats-io/nats-core";', resolveDir: path.join(__dirname, '..', '..'), loader: 'js' },
      bundle: true, format: 'iife', globalName: 'natsws', platform: 'browser', write: false, logLevel: 'silent',
    });
    return r.outputFiles[0].text;
  } catch (e) {
    return { skipped: `nats-core's websocket client could not be bundled for the browser (${(e as Error).message.split('\n')[0]})` };
  }
}

/** The benchmark pod: bound to NODE, never started. */
function pod(name: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { [LABEL.key]: LABEL.value } },
    spec: { nodeName: NODE, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  } as Pod;
}

/** Who saw which marker when (Date.now()). */
interface Seen { page: Map<string, number>; bus: Map<string, number>; ws?: Map<string, number> }

/** Waits until every observer saw `m`; throws naming the ones that did not. */
async function seenByAll(seen: Seen, m: string): Promise<void> {
  const deadline = Date.now() + SEEN_DEADLINE_MS;
  const missing = () => (Object.entries(seen) as [string, Map<string, number> | undefined][]).filter(([, s]) => s && !s.has(m)).map(([k]) => k);
  while (missing().length > 0) {
    if (Date.now() > deadline) throw new Error(`change ${m} not seen by ${missing().join(', ')} within ${SEEN_DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Writes change `m` to pod `name`'s status; returns Date.now() taken just before the request. */
async function writeChange(bus: Bus, name: string, m: string): Promise<number> {
  const t = Date.now();
  // The whole object, as a node agent sends it (the api checks it); only its status is taken.
  await request(bus, API.updateStatus, { object: { ...pod(name), status: { phase: 'Pending', reason: m } } });
  return t;
}

/** The samples of the changes in `written` (marker -> write time). */
function samples(seen: Seen, written: Map<string, number>): PhaseSamples {
  const of = (s: Map<string, number>) => [...written].map(([m, t]) => s.get(m)! - t);
  return { page: of(seen.page), bus: of(seen.bus), ...(seen.ws ? { ws: of(seen.ws) } : {}) };
}

/** Opens the objects view of the benchmark pods and notes when rows first show each marker. */
async function openPage(browser: Browser, url: string, pods: number, seen: Seen): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  await page.exposeBinding('mkBenchSeen', (_src, m: string, at: number) => { if (!seen.page.has(m)) seen.page.set(m, at); });
  await page.goto(`${url}#/objects/pods?ns=default&l=${encodeURIComponent(`${LABEL.key}=${LABEL.value}`)}`);
  await page.locator('table.objects tbody tr').nth(pods - 1).waitFor();
  // The page's own TypeScript types are not the bench's: the in-page function speaks of globalThis.
  await page.evaluate((re) => {
    const g = globalThis as unknown as {
      document: { querySelector(s: string): { textContent: string | null } | null; body: unknown };
      MutationObserver: new (cb: () => void) => { observe(n: unknown, o: object): void };
      mkBenchSeen(m: string, at: number): void;
    };
    const reported = new Set<string>();
    const check = () => {
      const at = Date.now();
      const text = g.document.querySelector('table.objects tbody')?.textContent ?? '';
      for (const m of text.match(new RegExp(re, 'g')) ?? []) {
        if (!reported.has(m)) { reported.add(m); g.mkBenchSeen(m, at); }
      }
    };
    new g.MutationObserver(check).observe(g.document.body, { subtree: true, childList: true, characterData: true });
  }, MARKER_RE.source);
  return page;
}

/** A second tab subscribed to mk.watch.pods over nats-server's websocket listener. */
async function openWsTab(browser: Browser, env: ControlPlaneEnv, bundle: string, seen: Seen): Promise<Page> {
  const page = await browser.newPage();
  const ws = seen.ws!;
  await page.exposeBinding('mkBenchWs', (_src, m: string, at: number) => { if (!ws.has(m)) ws.set(m, at); });
  await page.goto(`${env.dashboardUrl}healthz`);
  await page.addScriptTag({ content: bundle });
  await page.evaluate(async (o) => {
    type Nc = { subscribe(s: string, opts: { callback(err: unknown, msg: { data: Uint8Array }): void }): void; flush(): Promise<void> };
    const g = globalThis as unknown as { natsws: { wsconnect(o: object): Promise<Nc> }; mkBenchWs(m: string, at: number): void };
    const nc = await g.natsws.wsconnect({ servers: o.url, user: o.user, pass: o.pass });
    const dec = new TextDecoder();
    nc.subscribe(o.subject, {
      callback: (_err, msg) => {
        const at = Date.now();
        const m = dec.decode(msg.data).match(new RegExp(o.re));
        if (m) g.mkBenchWs(m[0], at);
      },
    });
    await nc.flush();
  }, { url: env.websocketUrl!, user: env.connect.user, pass: env.connect.pass, subject: `${API.watchPrefix}.pods.default.>`, re: MARKER_RE.source });
  return page;
}

/** Runs the benchmark, prints its tables and one JSON line. */
export async function dashboardBench(argv: string[], usage: string): Promise<DashboardResult> {
  const rounds = intFlag(argv, '--rounds', 3, usage);
  const changes = intFlag(argv, '--changes', 200, usage);
  const gapMs = intFlag(argv, '--gap-ms', 50, usage);
  const pods = Math.min(100, changes);
  const say = (l: string) => console.error(l);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the dashboard benchmark needs Debian's chromium package`);
  if (!fs.existsSync(path.join(__dirname, '..', '..', 'dashboard', 'web', 'app.js'))) {
    throw new Error('dist/dashboard/web/app.js is missing: build the dashboard\'s page first (npm run build)');
  }
  const bundle = natsBrowserBundle();
  say('starting a nats-server and a control plane serving its dashboard ...');
  const env = await startControlPlaneEnv('dashboard', { dashboard: true, websocket: typeof bundle === 'string' });
  let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const names = Array.from({ length: pods }, (_, i) => `dash-${i}`);
  try {
    const { bus } = env;
    for (const n of names) {
      const r = await request<ApplyResult>(bus, API.apply, { object: pod(n) });
      if (r.result !== 'created') throw new Error(`apply of benchmark pod ${n} answered ${r.result}`);
    }
    chrome = await launchChromium();
    const out: DashboardRound[] = [];
    let next = 0;
    for (let r = 1; r <= rounds; r++) {
      const seen: Seen = { page: new Map(), bus: new Map(), ...(typeof bundle === 'string' ? { ws: new Map() } : {}) };
      const sub = bus.nc.subscribe(`${API.watchPrefix}.pods.default.>`, {
        callback: (_err, msg) => {
          const at = Date.now();
          const reason = (decode<WatchEvent>(msg.data).object as Pod).status?.reason;
          if (reason && !seen.bus.has(reason)) seen.bus.set(reason, at);
        },
      });
      const page = await openPage(chrome.browser, env.dashboardUrl!, pods, seen);
      const wsTab = typeof bundle === 'string' ? await openWsTab(chrome.browser, env, bundle, seen) : undefined;
      try {
        await bus.nc.flush();
        const phases = {} as Record<Phase, PhaseSamples>;
        for (const phase of PHASES) {
          await waitForQuietCpu(QUIET);
          const written = new Map<string, number>();
          if (phase === 'paced') {
            for (let i = 0; i < changes; i++) {
              const m = marker(next++);
              written.set(m, await writeChange(bus, names[i % pods], m));
              await seenByAll(seen, m);
              // A random part as long as the server's delta tick, so writes fall anywhere in it:
              // a fixed gap after each sighting would lock every write to the same point of the tick.
              await new Promise((res) => setTimeout(res, gapMs + Math.random() * PACE_JITTER_MS));
            }
          } else {
            for (let done = 0; done < changes; done += pods) {
              const batch = names.slice(0, Math.min(pods, changes - done)).map((n) => ({ n, m: marker(next++) }));
              await Promise.all(batch.map(async ({ n, m }) => { written.set(m, await writeChange(bus, n, m)); }));
              for (const { m } of batch) await seenByAll(seen, m);
            }
          }
          phases[phase] = samples(seen, written);
        }
        out.push({ round: r, phases });
        const p = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        say(`round ${r}/${rounds}: p50 page/bus paced ${p(phases.paced.page)}/${p(phases.paced.bus)} ms, burst ${p(phases.burst.page)}/${p(phases.burst.bus)} ms`);
      } finally {
        sub.unsubscribe();
        await wsTab?.close();
        await page.close();
      }
    }
    const res: DashboardResult = {
      changes, pods, gapMs, rounds: out, ...(typeof bundle === 'string' ? {} : { wsSkipped: bundle.skipped }),
    };
    for (const line of formatDashboard(res)) console.log(line);
    console.log(JSON.stringify(res));
    return res;
  } finally {
    await chrome?.close();
    for (const n of names) await request(env.bus, API.delete, { kind: 'pods', namespace: 'default', name: n, gracePeriodSeconds: 0 }).catch(() => undefined);
    await env.stop();
  }
}
