import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { request, withClient } from '../client';
import { ClusterError } from '../../embedded/errors';
import { dashboardUrl } from '../../embedded/dashboard';
import { clusterPaths } from '../../embedded/paths';
import { DASHBOARD_TOKEN_SUBJECT } from '../../messages/subjects';

/** mk.dashboard.token's answer (dashboard/server/tokens.ts TokenReply). */
interface TokenReply { token: string; expiresAt: string }

/**
 * `mk dashboard`: prints the URL of the cluster's web dashboard with a fresh single-use token
 * that opens a write session (valid for two minutes, once); `--read-only` prints it without one.
 * `--open` opens it with xdg-open. The page trades the token for a session cookie and removes it
 * from its address, so it stays in no history.
 */
export default class Dashboard extends MkCommand {
  static override summary = 'Print (or open) the URL of the web dashboard';
  static override examples = ['<%= config.bin %> dashboard --open', '<%= config.bin %> dashboard --read-only -o json'];
  static override flags = {
    open: Flags.boolean({ description: 'open the URL in a browser (xdg-open)' }),
    'read-only': Flags.boolean({ description: 'no write token: the page may only read' }),
    output: Flags.string({ char: 'o', description: 'output format', options: ['json'] }),
  };

  /** Prints the URL; exit 1 when the cluster has no dashboard or the token cannot be had. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Dashboard);
    const dataDir = this.dataDir(flags['data-dir']);
    const base = dashboardUrl(clusterPaths(dataDir));
    if (!base) throw new ClusterError(`no dashboard is configured in ${dataDir}: start the cluster with \`mk up\``);
    let url = base;
    let expiresAt: string | undefined;
    if (!flags['read-only']) {
      const t = await withClient(dataDir, (c) => request<TokenReply>(c.bus, DASHBOARD_TOKEN_SUBJECT, {}, { timeoutMs: 10_000 }));
      url = `${base}?token=${encodeURIComponent(t.token)}`;
      expiresAt = t.expiresAt;
    }
    if (flags.output === 'json') {
      this.out(`${JSON.stringify({ url, writable: !flags['read-only'], ...(expiresAt ? { expiresAt } : {}) }, null, 2)}\n`);
    } else {
      this.out(`${url}\n`);
      if (expiresAt) this.err(`the token opens one write session; it expires at ${expiresAt}`);
    }
    if (flags.open) {
      const opener = which('xdg-open');
      if (!opener) {
        this.err('cannot open a browser here: xdg-open is not installed; open the URL above yourself');
        this.exit(1);
      }
      spawn(opener, [url], { detached: true, stdio: 'ignore' }).unref();
    }
  }
}

/** The path of an executable on PATH, or undefined. */
function which(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}
