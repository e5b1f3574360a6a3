/**
 * The pod's /etc/hosts, which the node writes and mounts into every container like kubelet does
 * (kubernetes/kubernetes pkg/kubelet/kubelet_pods.go, managed hosts file;
 * https://kubernetes.io/docs/tasks/network/customize-hosts-file-for-pods/): the runtime's own copy
 * of the node's file knows neither the pod's name nor its aliases.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pod } from '../../messages/pod';
import { podHostname } from './cri-spec';

/** The name of the file in the pod's directory. */
export const HOSTS_FILE = 'etc-hosts';

/** The file's text: loopback names, the pod's IP with its hostname, then spec.hostAliases. */
export function hostsFileContent(pod: Pod, podIP: string | undefined): string {
  const lines = [
    '# mk-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  if (podIP) lines.push(`${podIP}\t${podHostname(pod)}`);
  const aliases = pod.spec.hostAliases ?? [];
  if (aliases.length > 0) {
    lines.push('', '# From the pod\'s hostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes the hosts file into `dir` (made if needed) and returns its path. Written to a temporary
 * name and renamed, so a container never sees half a file.
 */
export async function writeHostsFile(dir: string, pod: Pod, podIP: string | undefined): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, HOSTS_FILE);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, hostsFileContent(pod, podIP), { mode: 0o644 });
  await rename(tmp, file);
  return file;
}
