import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildContainerConfig } from './cri-spec';
import { makePod } from './fixtures';
import { hostsFileContent, writeHostsFile } from './hosts';

describe('pod hosts file', () => {
  it('names localhost, the pod by its hostname on its IP, then the host aliases in order', () => {
    const pod = makePod({ hostname: 'box', hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }, { ip: 'fd00::9', hostnames: ['six'] }] });
    const lines = hostsFileContent(pod, '10.244.0.7').split('\n');
    expect(lines).toContain('127.0.0.1\tlocalhost');
    expect(lines).toContain('::1\tlocalhost ip6-localhost ip6-loopback');
    expect(lines).toContain('10.244.0.7\tbox');
    const at = lines.indexOf('10.1.2.3\tfoo.local\tbar.local');
    expect(at).toBeGreaterThan(lines.indexOf('10.244.0.7\tbox'));
    expect(lines[at + 1]).toBe('fd00::9\tsix');
  });

  it('leaves the pod line out while the pod has no IP, and the alias section without aliases', () => {
    const text = hostsFileContent(makePod(), undefined);
    expect(text).not.toMatch(/\tweb$/m);
    expect(text).not.toMatch(/hostAliases/);
  });

  it('writes the file and the container config mounts it at /etc/hosts; tty and stdin reach CRI', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mk-hosts-'));
    try {
      const pod = makePod({ containers: [{ name: 'app', image: 'busybox', tty: true, stdin: true, stdinOnce: true }], hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }] });
      const file = await writeHostsFile(path.join(dir, 'pod'), pod, '10.244.0.2');
      expect(await readFile(file, 'utf8')).toBe(hostsFileContent(pod, '10.244.0.2'));
      const config = buildContainerConfig(pod, pod.spec.containers[0], 0, 0, { hostsPath: file });
      expect(config.mounts).toEqual([{ containerPath: '/etc/hosts', hostPath: file }]);
      expect(config).toMatchObject({ tty: true, stdin: true, stdinOnce: true });
      const plain = buildContainerConfig(makePod(), makePod().spec.containers[0], 0);
      expect(plain).not.toHaveProperty('tty');
      expect(plain).not.toHaveProperty('mounts');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
