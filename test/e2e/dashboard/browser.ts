/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the dashboard's
 * browser tests. With a network namespace it runs inside it (through an `nsenter` wrapper), so it
 * reaches a cluster's dashboard on that namespace's loopback and nothing else.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** True when the browser tests can run here. */
export function canRunBrowser(): boolean {
  return fs.existsSync(CHROMIUM);
}

/** A launched browser and what removes it (the process by pid, the wrapper's temp dir). */
export interface TestBrowser { browser: Browser; close(): Promise<void> }

/** Launches Chromium, inside the namespace at `netnsPath` when given. */
export async function launchBrowser(netnsPath?: string): Promise<TestBrowser> {
  // A wrapper records the browser's pid (exec keeps it: nsenter, then chromium, is one process),
  // so that close() can kill it by pid even when playwright could not close it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-chromium-'));
  const executablePath = path.join(dir, 'chromium');
  const pidFile = path.join(dir, 'pid');
  const run = netnsPath ? `nsenter --net=${netnsPath} -- ${CHROMIUM}` : CHROMIUM;
  fs.writeFileSync(executablePath, `#!/bin/sh\necho $$ > ${pidFile}\nexec ${run} "$@"\n`, { mode: 0o755 });
  const close = async (browser?: Browser): Promise<void> => {
    await browser?.close().catch(() => undefined);
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
    if (pid > 0) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath, args: ARGS, timeout: 60_000 });
  } catch (e) {
    await close();
    throw e;
  }
  return { browser, close: () => close(browser) };
}
