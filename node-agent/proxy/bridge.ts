/**
 * Bridge netfilter: a pod that reaches a cluster IP whose endpoint sits on the same bridge gets
 * its reply straight over the bridge, where iptables (and so conntrack's un-DNAT) never sees it
 * unless bridged IPv4 traffic is passed to iptables (the br_netfilter module and
 * net.bridge.bridge-nf-call-iptables=1, as Kubernetes' network plugin requirements ask:
 * https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/network-plugins/).
 * The sysctl belongs to each network namespace (Linux 5.3 and later), so it is set in the
 * namespace the proxy programs; the module is the machine's and is loaded when missing.
 */
import { runCommand, type Commands } from './iptables';

const KEY = 'net.bridge.bridge-nf-call-iptables';

/**
 * Makes bridged IPv4 traffic of this namespace pass through iptables. Resolves with a problem to
 * log when that cannot be done (no br_netfilter, not permitted); never throws.
 */
export async function ensureBridgeNetfilter(cmds: Commands): Promise<string | undefined> {
  const read = (): Promise<string | undefined> => runCommand(cmds, ['sysctl', '-n', KEY]).then((v) => v.trim(), () => undefined);
  let value = await read();
  if (value === undefined) {
    await runCommand({}, ['modprobe', 'br_netfilter']).catch(() => undefined);
    value = await read();
    if (value === undefined) return `${KEY} does not exist (the br_netfilter module is not loaded and could not be): pods reaching a service endpoint on their own bridge get no answer`;
  }
  if (value === '1') return undefined;
  return runCommand(cmds, ['sysctl', '-w', `${KEY}=1`]).then(() => undefined, (err: Error) => `could not set ${KEY}=1: ${err.message}`);
}
