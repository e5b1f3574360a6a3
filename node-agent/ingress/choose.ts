/**
 * Which proxy serves the node's ingress: nginx (nginx.ts, a child process with a generated
 * config; the faster one, `npm run bench -- ingress`) or the in-process proxy (serve.ts). `auto`
 * takes nginx when an nginx binary is installed, else the in-process proxy and says so once.
 */
import * as path from 'node:path';
import { findNginx, startNginxIngress } from './nginx';
import { startNodeIngress, type NodeIngress, type NodeIngressOptions } from './serve';

/** The values of `--ingress-proxy`. */
export const INGRESS_PROXY_MODES = ['nginx', 'builtin', 'auto'] as const;
export type IngressProxyMode = (typeof INGRESS_PROXY_MODES)[number];

/** Why `v` is no ingress proxy mode, or null. */
export function ingressProxyModeError(v: string): string | null {
  return (INGRESS_PROXY_MODES as readonly string[]).includes(v) ? null : `"${v}" is not one of ${INGRESS_PROXY_MODES.join(', ')}`;
}

/** What starting the chosen proxy needs: the node ingress's options, the mode and nginx's directory. */
export interface ChosenIngressOptions extends NodeIngressOptions {
  mode: IngressProxyMode;
  /** The node's data directory: nginx's files go to `<dataDir>/ingress-nginx`. */
  dataDir: string;
  /** The nginx binary (default: found on PATH or in /usr/sbin). */
  nginx?: string;
}

/** Starts the ingress `mode` asks for. Throws when it is `nginx` and nginx is not installed. */
export async function startChosenIngress(opts: ChosenIngressOptions): Promise<NodeIngress> {
  const { mode, dataDir, nginx, ...rest } = opts;
  const bin = nginx ?? findNginx();
  if (mode === 'nginx' && !bin) throw new Error('--ingress-proxy nginx: nginx is not installed (no nginx binary on PATH or in /usr/sbin)');
  if (mode === 'builtin' || !bin) {
    if (mode === 'auto') opts.log?.info('nginx is not installed: the ingress is served by the built-in proxy');
    return startNodeIngress(rest);
  }
  try {
    return await startNginxIngress({ ...rest, nginx: bin, dir: path.join(dataDir, 'ingress-nginx') });
  } catch (err) {
    // auto: an nginx that will not start (a broken install, a refused config) does not leave the
    // node without an ingress. The in-process proxy meets the same taken port, if that was it.
    if (mode !== 'auto') throw err;
    opts.log?.warn({ err: String(err) }, 'nginx did not start: the ingress is served by the built-in proxy');
    return startNodeIngress(rest);
  }
}
