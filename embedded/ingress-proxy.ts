/**
 * `--ingress-proxy` of `mk up` and `mk node-agent`: which proxy serves each node's ingress
 * (node-agent/ingress/choose.ts). `mk up` passes its flag down to the node agents it starts as
 * MK_INGRESS_PROXY (this run only); a node agent's own flag comes first, then that, then auto.
 */
import type { IngressProxyMode } from '../node-agent/ingress/choose';
import { findNginx } from '../node-agent/ingress/nginx';
import { ClusterError } from './errors';

/** The values `--ingress-proxy` takes. */
export const INGRESS_PROXY_CHOICES: readonly IngressProxyMode[] = ['nginx', 'builtin', 'auto'];

/** The mode from the flag, else MK_INGRESS_PROXY, else auto; throws ClusterError naming a bad value or a missing nginx. */
export function ingressProxyMode(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): IngressProxyMode {
  const from = flag !== undefined ? '--ingress-proxy' : 'MK_INGRESS_PROXY';
  const v = flag ?? (env.MK_INGRESS_PROXY || undefined) ?? 'auto';
  if (!(INGRESS_PROXY_CHOICES as readonly string[]).includes(v)) {
    throw new ClusterError(`${from}: "${v}" is not one of ${INGRESS_PROXY_CHOICES.join(', ')}`);
  }
  if (v === 'nginx' && !findNginx()) throw new ClusterError(`${from} nginx: nginx is not installed (scripts/install.sh installs it)`);
  return v as IngressProxyMode;
}
