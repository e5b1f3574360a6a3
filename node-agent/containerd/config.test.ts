import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { renderContainerdConfig, writeRegistryMirrors } from './config';

const base = {
  root: '/data/root', state: '/data/state', socketPath: '/data/containerd.sock', sandboxImage: 'registry.mk.local/pause:3.9',
  cniConfDir: '/data/cni/net.d', snapshotter: 'native' as const,
};

describe('renderContainerdConfig', () => {
  it('sets everything a private instance on this machine needs', () => {
    const toml = renderContainerdConfig(base);
    for (const line of [
      'version = 2', 'root = "/data/root"', 'state = "/data/state"', 'address = "/data/containerd.sock"',
      'sandbox_image = "registry.mk.local/pause:3.9"', 'restrict_oom_score_adj = true', 'disable_apparmor = true',
      'netns_mounts_under_state_dir = true', 'stream_server_port = "0"', 'snapshotter = "native"',
      'runtime_type = "io.containerd.runc.v2"', 'SystemdCgroup = false', 'Root = "/data/state/runc"',
      'bin_dir = "/usr/lib/cni"', 'conf_dir = "/data/cni/net.d"', '"io.containerd.internal.v1.opt"',
    ]) expect(toml).toContain(line);
    // runtime.v1.linux must not be disabled: containerd 1.6's tasks service needs it.
    expect(toml).not.toContain('io.containerd.runtime.v1.linux');
    expect(toml).not.toContain('config_path');
  });

  it('escapes paths and adds the registry config dir when given', () => {
    const toml = renderContainerdConfig({ ...base, root: '/da"ta', registryConfigDir: '/data/certs.d', cniBinDir: '/opt/cni/bin' });
    expect(toml).toContain('root = "/da\\"ta"');
    expect(toml).toContain('config_path = "/data/certs.d"');
    expect(toml).toContain('bin_dir = "/opt/cni/bin"');
  });
});

describe('writeRegistryMirrors', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'mk-mirrors-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes one hosts.toml per registry, mirrors first', async () => {
    await writeRegistryMirrors(dir, { 'docker.io': ['http://10.0.0.5:5000'], 'registry.example.com:5000': ['https://m.example.com'] });
    const docker = await readFile(path.join(dir, 'docker.io', 'hosts.toml'), 'utf8');
    expect(docker).toContain('server = "https://registry-1.docker.io"');
    expect(docker).toContain('[host."http://10.0.0.5:5000"]');
    expect(docker).toContain('capabilities = ["pull", "resolve"]');
    const other = await readFile(path.join(dir, 'registry.example.com:5000', 'hosts.toml'), 'utf8');
    expect(other).toContain('server = "https://registry.example.com:5000"');
    expect(other).not.toContain('skip_verify');
  });

  it('refuses a registry key that could escape the dir and a mirror that is not a URL', async () => {
    await expect(writeRegistryMirrors(dir, { '../etc': ['http://x'] })).rejects.toThrow(/host\[:port\]/);
    await expect(writeRegistryMirrors(dir, { 'docker.io': ['ftp://x'] })).rejects.toThrow(/http\(s\) URL/);
  });
});
