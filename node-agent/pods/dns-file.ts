/** Reads the node's resolv.conf once, for dnsPolicy Default with a pod's own dnsConfig (dns.ts). */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DNSConfig } from '../cri/types';
import { parseResolvConf } from './dns';

/** The node's resolver file, as kubelet's --resolv-conf defaults to. */
export const NODE_RESOLV_CONF = '/etc/resolv.conf';

/**
 * `{ nodeResolvConf }` from `file`, or `{}` when it cannot be read (logged): a pod's dnsConfig
 * then stands alone, as with dnsPolicy None.
 */
export function readNodeResolvConf(log: Logger, file = NODE_RESOLV_CONF): { nodeResolvConf?: DNSConfig } {
  try {
    return { nodeResolvConf: parseResolvConf(readFileSync(file, 'utf8')) };
  } catch (err) {
    log.warn({ file, err: String(err) }, "cannot read the node's resolv.conf; a pod's dnsConfig is used alone");
    return {};
  }
}
