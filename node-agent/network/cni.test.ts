import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ValidationError } from '../../messages/errors';
import { buildCniConfig, gatewayOf, missingCniPlugins, parseCidr, removeCniResultCache, writeCniConfig } from './cni';

describe('CNI config', () => {
  it('builds a bridge + host-local + portmap conflist on the pod CIDR', () => {
    const c = buildCniConfig({ podCIDR: '10.244.1.0/24', bridge: 'mk0', dataDir: '/data/ipam' }) as {
      name: string; plugins: Record<string, unknown>[];
    };
    expect(c.name).toBe('mk');
    expect(c.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(c.plugins[0]).toMatchObject({
      bridge: 'mk0', isGateway: true, ipMasq: true, hairpinMode: true,
      ipam: { type: 'host-local', dataDir: '/data/ipam', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]] },
    });
    expect(c.plugins[1]).toMatchObject({ capabilities: { portMappings: true } });
  });

  it('normalizes the CIDR to its network address and rejects bad input', () => {
    expect(parseCidr('10.244.1.77/24')).toEqual({ base: (10 * 2 ** 24) + (244 << 16) + (1 << 8), prefix: 24 });
    expect(gatewayOf('10.244.1.77/24')).toBe('10.244.1.1');
    expect(gatewayOf('192.168.0.0/16')).toBe('192.168.0.1');
    for (const bad of ['10.244.1.0', '10.244.1.0/33', '300.1.1.0/24', 'fd00::/64']) {
      expect(() => parseCidr(bad)).toThrow(ValidationError);
    }
    expect(() => buildCniConfig({ podCIDR: '10.0.0.0/24', bridge: 'a-bridge-name-too-long', dataDir: '/x' })).toThrow(/bridge name/);
  });

  it('writes the conflist and removes other configs in the dir', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mk-cni-'));
    try {
      const confDir = path.join(dir, 'net.d');
      await mkdir(confDir);
      await writeFile(path.join(confDir, '05-old.conflist'), '{}');
      await writeFile(path.join(confDir, 'README'), 'kept');
      const file = await writeCniConfig({ confDir, podCIDR: '10.244.2.0/24', bridge: 'mk0', dataDir: path.join(dir, 'ipam'), name: 'node-a' });
      expect(path.basename(file)).toBe('10-node-a.conflist');
      expect((await readdir(confDir)).sort()).toEqual(['10-node-a.conflist', 'README']);
      expect(JSON.parse(await readFile(file, 'utf8')).name).toBe('node-a');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('removes only its own network entries from the CNI result cache', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mk-cnicache-'));
    try {
      const id = 'a'.repeat(64);
      for (const f of [`mk-${id}-eth0`, `mk-x-${id}-eth0`, `other-${id}-eth0`]) await writeFile(path.join(dir, f), '{}');
      expect(await removeCniResultCache('mk', dir)).toEqual([`mk-${id}-eth0`]);
      expect((await readdir(dir)).sort()).toEqual([`mk-x-${id}-eth0`, `other-${id}-eth0`]);
      expect(await removeCniResultCache('mk', path.join(dir, 'absent'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists missing plugins', () => {
    expect(missingCniPlugins('/nonexistent')).toEqual(['bridge', 'host-local', 'portmap', 'loopback']);
  });
});
