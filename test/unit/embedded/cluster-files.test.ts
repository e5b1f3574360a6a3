import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { natsConfig, prepareClusterFiles, readCredentials } from '../../../embedded/credentials';
import { clusterPaths } from '../../../embedded/paths';
import { defaultNodeName, readContext, resolveDataDir } from '../../../embedded/context';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-files-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

describe('prepareClusterFiles', () => {
  it('generates credentials, nats.conf and the context on first run, with mode 0600', () => {
    const paths = clusterPaths(dir);
    const creds = prepareClusterFiles(paths, { nodeName: 'n1' });
    expect(creds.port).toBe(4222);
    expect(Object.keys(creds.users).sort()).toEqual(['admin', 'control-plane', 'dashboard', 'dashboard-write', 'gateway', 'node-n1']);
    for (const f of [paths.config, paths.credentials, paths.natsConf]) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    const ctx = readContext(dir);
    expect(ctx).toEqual({ servers: ['nats://127.0.0.1:4222'], user: 'admin', pass: creds.users.admin, nodeName: 'n1', caFile: path.join(dir, 'tls', 'ca.crt') });
    const conf = fs.readFileSync(paths.natsConf, 'utf8');
    expect(conf).toContain('listen: "127.0.0.1:4222"');
    expect(conf).toContain(`cert_file: ${JSON.stringify(path.join(dir, 'tls', 'server-chain.crt'))}`);
    expect(conf).toContain(`key_file: ${JSON.stringify(path.join(dir, 'tls', 'server.key'))}`);
    expect(conf).toMatch(/\{ user: "join", password: "join", permissions: \{ publish: \{ allow: \["mk\.join"\] \}, subscribe: \{ allow: \["_INBOX\.join\.>"\] \} \} \}/);
    expect(conf).toContain(`store_dir: ${JSON.stringify(paths.natsStore)}`);
    expect(conf).toContain(`{ user: "control-plane", password: ${JSON.stringify(creds.users['control-plane'])} }`);
    expect(conf).toMatch(new RegExp(`user: "admin", password: ${JSON.stringify(creds.users.admin)}, permissions: \\{ publish: \\{ allow: \\["mk\\.api\\.\\*"`));
    expect(conf).toMatch(/user: "node-n1".*subscribe: \{ allow: \["_INBOX\.node-n1\.>", "mk\.node\.n1\.>", "mk\.sys\.actor\.node-n1\.snapshot"\] \}, allow_responses: true/);
  });

  it('reuses passwords and node name afterwards; a new port is applied', () => {
    const paths = clusterPaths(dir);
    const first = prepareClusterFiles(paths, { nodeName: 'n1' });
    const again = prepareClusterFiles(paths, { nodeName: 'other', port: 4333 });
    expect(again.users).toEqual(first.users);
    expect(again.nodeName).toBe('n1');
    expect(readCredentials(paths)?.port).toBe(4333);
    expect(readContext(dir).servers).toEqual(['nats://127.0.0.1:4333']);
    expect(natsConfig(paths, again)).toContain('listen: "127.0.0.1:4333"');
  });

  it('listens on every address with an advertise address, kept for later starts; refuses one that is no IP', () => {
    const paths = clusterPaths(dir);
    prepareClusterFiles(paths, { nodeName: 'n1', advertiseAddress: '10.9.8.7' });
    const again = prepareClusterFiles(paths, { nodeName: 'n1' });
    expect(again.advertiseAddress).toBe('10.9.8.7');
    expect(natsConfig(paths, again)).toContain('listen: "0.0.0.0:4222"');
    expect(natsConfig(paths, again)).toContain('client_advertise: "10.9.8.7:4222"');
    expect(() => prepareClusterFiles(paths, { nodeName: 'n1', advertiseAddress: 'my host' })).toThrow('invalid --advertise-address "my host": expected an IPv4 address');
  });

  it('keeps the pod network of the first start, and refuses another later without writing anything', () => {
    const paths = clusterPaths(dir);
    expect(prepareClusterFiles(paths, { nodeName: 'n1', podNetwork: 'vxlan' }).podNetwork).toBe('vxlan');
    expect(prepareClusterFiles(paths, { nodeName: 'n1' }).podNetwork).toBe('vxlan');
    const before = fs.readFileSync(paths.credentials, 'utf8');
    expect(() => prepareClusterFiles(paths, { nodeName: 'n1', podNetwork: 'host-gw' }))
      .toThrow(`the cluster in ${dir} runs the vxlan pod network; it cannot be started with --pod-network host-gw`);
    expect(fs.readFileSync(paths.credentials, 'utf8')).toBe(before);
    // host-gw, the default, is not written down.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-files-'));
    try {
      expect(prepareClusterFiles(clusterPaths(other), { nodeName: 'n1' }).podNetwork).toBeUndefined();
      expect(() => prepareClusterFiles(clusterPaths(other), { nodeName: 'n1', podNetwork: 'vxlan' })).toThrow('runs the host-gw pod network');
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('context', () => {
  it('resolves the data dir from the flag, then MK_HOME, then ~/.mk', () => {
    const old = process.env.MK_HOME;
    process.env.MK_HOME = '/tmp/mk-home-x';
    expect(resolveDataDir('rel/dir')).toBe(path.resolve('rel/dir'));
    expect(resolveDataDir()).toBe('/tmp/mk-home-x');
    delete process.env.MK_HOME;
    expect(resolveDataDir()).toBe(path.join(os.homedir(), '.mk'));
    if (old !== undefined) process.env.MK_HOME = old;
  });

  it('says to run mk up when there is no context', () => {
    expect(() => readContext(dir)).toThrow(/no cluster context at .*config\.json \(is the cluster up\? run `mk up`/);
  });

  it('rejects a malformed context', () => {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ servers: [], nodeName: 'x' }));
    expect(() => readContext(dir)).toThrow(/config\.json is invalid: servers/);
  });

  it('makes a DNS-1123 node name from the host name', () => {
    expect(defaultNodeName('My_Host.example.com')).toBe('my-host');
    expect(defaultNodeName('___')).toBe('node-1');
  });
});
