/**
 * The dashboard end to end: `mk up` in a network namespace (nats-server, a control plane serving
 * the dashboard, a node agent with containerd), and Debian's Chromium inside the same namespace
 * opening the URLs `mk dashboard` prints. Everything the page shows comes from the real cluster:
 * actor telemetry, objects, events, logs; writes go through the session's NATS identity.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';
import { canRunBrowser, launchBrowser, type TestBrowser } from './browser';

const describeE2e = canRunE2e() && canRunBrowser() ? describe : describe.skip;
jest.setTimeout(600_000);

const podYaml = (name: string, command: string, labels = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${labels}spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", ${JSON.stringify(command)}]
`;

/** The first http(s) URL in `text`. */
function urlIn(text: string): string {
  const m = /https?:\/\/[^\s"']+/.exec(text);
  if (!m) throw new Error(`no URL in: ${text}`);
  return m[0];
}

/** The pid of the process whose command line is exactly `argv` (a pod's unique command). */
function pidOfCommand(argv: string[]): number | undefined {
  const want = `${argv.join('\0')}\0`;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8') === want) return Number(d); } catch { /* gone */ }
  }
  return undefined;
}

/**
 * Records, in the page, when an element matching `selector` first appears (its Date.now()), from
 * a MutationObserver, so the time is the DOM's and not a poll's. (Browser code as text: the
 * tests' TypeScript has no DOM types.)
 */
async function stampWhenShown(page: Page, name: string, selector: string): Promise<void> {
  await page.evaluate(`(() => {
    const name = ${JSON.stringify(name)}, selector = ${JSON.stringify(selector)};
    window[name] = undefined;
    const check = () => {
      if (window[name] === undefined && document.querySelector(selector)) { window[name] = Date.now(); return true; }
      return false;
    };
    if (check()) return;
    const obs = new MutationObserver(() => { if (check()) obs.disconnect(); });
    obs.observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true });
  })()`);
}

/** What the page's main part shows, for an error that says why a wait failed. */
const pageShows = async (page: Page): Promise<string> => `the page shows: ${await page.textContent('main').catch(() => '(unreadable)')}`;

/** Waits for `selector` on `page`; when it does not come, the error says what the page shows instead. */
async function shown(page: Page, selector: string, opts: { hasText?: string; timeout?: number } = {}): Promise<void> {
  try {
    await page.locator(selector, opts.hasText !== undefined ? { hasText: opts.hasText } : {}).waitFor({ timeout: opts.timeout ?? 20_000 });
  } catch (e) {
    throw new Error(`${selector}${opts.hasText !== undefined ? ` with ${JSON.stringify(opts.hasText)}` : ''} never showed; ${await pageShows(page)}`, { cause: e });
  }
}

/** The time stampWhenShown recorded, once there is one. */
async function stampOf(page: Page, name: string, timeoutMs = 10_000): Promise<number> {
  try {
    const h = await page.waitForFunction(`window[${JSON.stringify(name)}]`, undefined, { timeout: timeoutMs });
    return (await h.jsonValue()) as number;
  } catch (e) {
    throw new Error(`${name} never happened; ${await pageShows(page)}`, { cause: e });
  }
}

describeE2e('the dashboard in a browser, on a real cluster', () => {
  let c: TestCluster;
  let b: TestBrowser;
  let readOnly: string;
  const suffix = randomBytes(2).toString('hex');

  const getPod = async (name: string): Promise<Pod | undefined> => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) as Pod : undefined;
  };
  const apply = async (yaml: string): Promise<void> => {
    const r = await c.mk(['apply', '-f', '-'], { stdin: yaml });
    if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}`);
  };
  const running = (name: string) => waitFor(`pod ${name} Running`, async () => ((await getPod(name))?.status?.phase === 'Running' ? true : null), 90_000);
  /** A fresh write link (a single-use token) from `mk dashboard`. */
  const writeLink = async (): Promise<string> => {
    const r = await c.mk(['dashboard']);
    if (r.code !== 0) throw new Error(`mk dashboard failed: ${r.stderr}`);
    const url = urlIn(r.stdout);
    expect(url).toContain('token=');
    return url;
  };
  const open = async (url: string): Promise<Page> => {
    const page = await b.browser.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(url);
    await page.locator('#conn.conn-open').waitFor();
    return page;
  };
  /** The base URL (no token) with a hash route. */
  const at = (route: string) => `${readOnly.replace(/[?#].*$/, '')}${route}`;

  beforeAll(async () => {
    c = await startCluster();
    const r = await c.mk(['dashboard', '--read-only']);
    if (r.code !== 0) throw new Error(`mk dashboard --read-only failed: ${r.stdout}\n${r.stderr}`);
    readOnly = urlIn(r.stdout);
    expect(readOnly).not.toContain('token=');
    b = await launchBrowser(`/var/run/netns/${c.netns}`);
  });
  afterAll(async () => {
    await b?.close();
    await c?.destroy();
  });

  it("shows the control plane's and the node's actor trees", async () => {
    const page = await open(at('#/actors?system=1'));
    try {
      await page.locator('.card.process[data-process^="cp-"]').waitFor();
      await page.locator('.card.process[data-process^="node-"]').waitFor();
      const node = await page.locator('.card.process[data-process^="node-"]').first().getAttribute('data-process');
      await page.goto(at(`#/actors?process=${node}&system=1`));
      await page.locator('table.actors tbody tr').first().waitFor();
      expect(await page.locator('table.actors tbody tr td:last-child').first().textContent()).toBe(node);
    } finally {
      await page.close();
    }
  });

  it('shows an applied pod, its row and its actor, live on pages opened before the apply', async () => {
    const name = `fast-${suffix}`;
    const objects = await open(at('#/objects/pods'));
    const actors = await open(at(`#/actors?q=${name}`));
    try {
      await objects.locator('table.objects thead th').first().waitFor();
      await actors.locator('.pager .range').waitFor();
      const link = `a[href="#/object/pods/default/${name}"]`;
      await stampWhenShown(objects, 'rowShown', `table.objects ${link}`);
      await stampWhenShown(actors, 'actorShown', `table.actors ${link}`);
      await apply(podYaml(name, 'sleep 3600'));
      const replied = Date.now();
      // Both pages were open before the apply and are not reloaded: what they show came live over
      // their websockets. How long after the apply's answer is a figure, not a bound.
      const rowMs = (await stampOf(objects, 'rowShown')) - replied;
      const actorMs = (await stampOf(actors, 'actorShown')) - replied;
      console.log(`an applied pod shown ${rowMs} ms (its row) and ${actorMs} ms (its actor) after the apply answered`);
    } finally {
      await objects.close();
      await actors.close();
    }
  });

  it("shows a killed container's restart and its reason on the page of the node's pod actor", async () => {
    const name = `crashy-${suffix}`;
    const seconds = String(3000 + Math.floor(Math.random() * 600));
    await apply(podYaml(name, `exec sleep ${seconds}`));
    await running(name);
    const page = await open(at(`#/object/pods/default/${name}`));
    try {
      const nodeActor = page.locator('.keepers li[data-process^="node-"] a');
      await nodeActor.waitFor({ timeout: 30_000 });
      await page.locator('.keepers li[data-process^="cp-"] a').waitFor();
      await nodeActor.click();
      await shown(page, '.kept table.containers td.restarts', { timeout: 30_000 });
      expect(await page.textContent('.kept td.restarts')).toBe('0');
      const pid = await waitFor('the container process', async () => pidOfCommand(['sleep', seconds]), 30_000);
      process.kill(pid, 'SIGKILL');
      await shown(page, '.kept td.restarts', { hasText: '1', timeout: 60_000 });
      expect(await page.textContent('.kept td.last-termination')).toMatch(/Terminated: \w+ \(exit 137/);
    } finally {
      await page.close();
    }
  });

  it("shows the node's capacity, usage and pods, and live CPU and memory charts of a pod", async () => {
    const name = `busy-${suffix}`;
    await apply(podYaml(name, 'while true; do :; done'));
    await running(name);
    const page = await open(at('#/nodes'));
    try {
      const card = page.locator('.card.node').first();
      await card.locator(`a[href="#/object/pods/default/${name}"]`).waitFor({ timeout: 30_000 });
      expect(await card.locator('tbody tr').first().textContent()).toMatch(/^cpu\d+/);
      // Usage reports come every few seconds; the pod's chart shows the latest sample.
      await page.goto(at('#/usage'));
      const charts = page.locator(`.charts[data-usage="pods/default/${name}"]`);
      await charts.locator('.chart-last', { hasText: /^\d+m$/ }).first().waitFor({ timeout: 30_000 });
      await page.locator('.charts[data-usage^="nodes/"] .chart-last', { hasText: /^\d+m$/ }).first().waitFor({ timeout: 30_000 });
    } finally {
      await page.close();
      await c.mk(['delete', 'pod', name, '--grace-period', '0']);
    }
  });

  it('shows an edit of a stale version as a conflict, and reloads the current one', async () => {
    const name = `edit-${suffix}`;
    await apply(podYaml(name, 'sleep 3600'));
    const page = await open(await writeLink());
    try {
      await page.locator('#session.write').waitFor();
      expect(page.url()).not.toContain('token=');
      await page.goto(at(`#/object/pods/default/${name}`));
      await page.locator('pre.yaml').waitFor();
      await page.locator('button[name=edit]').click();
      const text = await page.locator('textarea.yaml').inputValue();
      // Someone else writes meanwhile.
      expect((await c.mk(['label', 'pod', name, 'changed=elsewhere'])).code).toBe(0);
      await page.locator('.edit-note', { hasText: 'changed since you started editing' }).waitFor();
      await page.locator('textarea.yaml').fill(text.replace(/^ {2}annotations:\n/m, '  annotations:\n    edited: by-page\n'));
      await page.locator('button[name=save]').click();
      await page.locator('.edit-result :is(.conflict, .error)').waitFor();
      expect(await page.textContent('.edit-result')).toMatch(/^Conflict: /);
      expect((await getPod(name))?.metadata.annotations?.edited).toBeUndefined();
      await page.locator('button[name=reload]').click();
      expect(await page.locator('textarea.yaml').inputValue()).toContain('changed: elsewhere');
    } finally {
      await page.close();
    }
  });

  it("follows a pod's log, and holds it while paused", async () => {
    const name = `ticker-${suffix}`;
    await apply(podYaml(name, 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done'));
    await running(name);
    const page = await open(at(`#/object/pods/default/${name}`));
    try {
      const lastTick = async (): Promise<number> => {
        const all = [...((await page.textContent('pre.logs')) ?? '').matchAll(/tick-(\d+)/g)];
        return all.length ? Number(all[all.length - 1][1]) : -1;
      };
      await page.locator('pre.logs', { hasText: 'tick-' }).waitFor({ timeout: 30_000 });
      const first = await lastTick();
      await waitFor('two new lines on the page', async () => (await lastTick()) >= first + 2, 15_000);
      await page.locator('button[name=pause-logs]').click();
      const held = await lastTick();
      // The pod writes on (mk logs sees newer lines) while the paused page stays put.
      await waitFor('newer lines in mk logs', async () => {
        const r = await c.mk(['logs', name]);
        return r.stdout.includes(`tick-${held + 2}\n`);
      }, 15_000);
      expect(await lastTick()).toBe(held);
      await page.locator('button[name=pause-logs]').click();
      await waitFor('the held lines shown on resume', async () => (await lastTick()) >= held + 2, 10_000);
    } finally {
      await page.close();
    }
  });

  it("refuses a read-only session's delete on the bus, shows the error, and the pod stays", async () => {
    const name = `keep-${suffix}`;
    await apply(podYaml(name, 'sleep 3600'));
    const page = await open(at(`#/object/pods/default/${name}`));
    try {
      await page.locator('pre.yaml').waitFor();
      const del = page.locator('button[name=delete]');
      expect(await del.isDisabled()).toBe(true);
      expect(await page.textContent('.actions .readonly-note')).toContain('read-only');
      // Hidden buttons protect nothing: send the delete anyway.
      await del.evaluate((el) => el.removeAttribute('disabled'));
      await del.click();
      await page.locator('button[name=confirm-delete]').click();
      await page.locator('.write-error').waitFor();
      expect(await page.textContent('.write-error')).toMatch(/Forbidden|[Pp]ermission/);
      expect((await getPod(name))?.metadata.deletionTimestamp).toBeUndefined();
      expect(await getPod(name)).toBeDefined();
    } finally {
      await page.close();
    }
  });

  it('follows a raw subject the read-only identity may read, and names one the bus refuses', async () => {
    const page = await open(at(`#/subject?s=${encodeURIComponent('mk.sys.actor.*.stats')}`));
    try {
      await page.locator('.messages li', { hasText: 'mk.sys.actor.' }).first().waitFor({ timeout: 15_000 });
      await page.locator('input[name=subject]').fill('_INBOX.admin.>');
      await page.locator('button[name=watch]').click();
      await page.locator('.status .error', { hasText: '_INBOX.admin.>' }).waitFor();
    } finally {
      await page.close();
    }
  });

  it('shows a deleted pod, and its actor, at a time when it existed', async () => {
    const name = `gone-${suffix}`;
    await apply(podYaml(name, 'sleep 3600'));
    await running(name);
    const existed = new Date().toISOString();
    expect((await c.mk(['delete', 'pod', name, '--grace-period', '0'])).code).toBe(0);
    await waitFor(`pod ${name} gone`, async () => ((await getPod(name)) === undefined ? true : null), 60_000);
    const page = await open(at(`#/object/pods/default/${name}`));
    try {
      await page.locator('.gone').waitFor();
      await page.locator('input[name=at]').fill(existed);
      await page.locator('button[name=go-at]').click();
      await page.locator('#past', { hasText: 'Showing the past' }).waitFor();
      await page.locator('pre.yaml', { hasText: `name: ${name}` }).waitFor();
      expect(await page.textContent('.past-note')).toMatch(/^As it was at /);
      await page.goto(at(`#/actors?q=${name}&system=1&at=${encodeURIComponent(existed)}`));
      await page.locator(`table.actors a[href^="#/object/pods/default/${name}"]`).first().waitFor();
    } finally {
      await page.close();
    }
  });

  it('shows the feed drop when the control plane is SIGKILLed, reconnects when it is back, and resubscribes', async () => {
    const page = await open(at('#/objects/pods'));
    try {
      await page.locator('table.objects thead th').first().waitFor();
      const pid = c.pidOf('control-plane');
      expect(pid).toBeDefined();
      process.kill(pid!, 'SIGKILL');
      await page.locator('#conn:is(.conn-closed, .conn-connecting)').waitFor();
      // mk up's supervisor starts it again; the page finds it with its backoff.
      await page.locator('#conn.conn-open').waitFor({ timeout: 90_000 });
      const name = `after-${suffix}`;
      await apply(podYaml(name, 'sleep 3600'));
      await page.locator(`table.objects a[href="#/object/pods/default/${name}"]`).waitFor({ timeout: 30_000 });
    } finally {
      await page.close();
    }
  });
});
