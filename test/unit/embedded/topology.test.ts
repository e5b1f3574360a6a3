import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readContext } from '../../../embedded/context';
import { prepareClusterFiles } from '../../../embedded/credentials';
import { natsMemberConfig, natsMembers } from '../../../embedded/nats-cluster';
import { clusterPaths } from '../../../embedded/paths';
import { applyTopology, controlPlaneChild, natsChild, readTopology, resolveTopology, supervisedChildren } from '../../../embedded/topology';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-topology-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

describe('topology', () => {
  it('defaults to one of each, keeps what mk up was given, and resumes it without flags', () => {
    const paths = clusterPaths(dir);
    expect(readTopology(paths)).toEqual({ controlPlanes: 1, natsServers: 1 });
    expect(resolveTopology(paths, { controlPlanes: 2, natsServers: 3 })).toEqual({ controlPlanes: 2, natsServers: 3 });
    expect(resolveTopology(paths, {})).toEqual({ controlPlanes: 2, natsServers: 3 });
    expect(resolveTopology(paths, { controlPlanes: 1 })).toEqual({ controlPlanes: 1, natsServers: 3 });
  });

  it('refuses counts that do not work, naming them', () => {
    const paths = clusterPaths(dir);
    expect(() => resolveTopology(paths, { natsServers: 2 })).toThrow(/NATS servers must be 1 or 3 \(got 2\)/);
    expect(() => resolveTopology(paths, { controlPlanes: 4 })).toThrow(/control planes must be 1 to 3 \(got 4\)/);
    expect(fs.existsSync(path.join(dir, 'topology.json'))).toBe(false);
  });

  it('refuses to move a cluster with a store to another number of NATS servers', () => {
    const paths = clusterPaths(dir);
    resolveTopology(paths, {});
    fs.mkdirSync(path.join(paths.natsStore, 'jetstream'), { recursive: true });
    expect(() => resolveTopology(paths, { natsServers: 3 })).toThrow(/keeps its store on 1 NATS server\(s\); it cannot move to 3/);
    expect(readTopology(paths).natsServers).toBe(1);
  });

  it('with 3 NATS servers, writes each member a config with routes to the others and gives the context all three', () => {
    const paths = clusterPaths(dir);
    const t = resolveTopology(paths, { natsServers: 3 });
    const creds = prepareClusterFiles(paths, { nodeName: 'n1', port: 5222 });
    const members = applyTopology(paths, creds, t);
    expect(members.map((m) => [m.name, m.clientPort, m.routePort])).toEqual([['mk-0', 5222, 7222], ['mk-1', 5223, 7223], ['mk-2', 5224, 7224]]);
    expect(readContext(dir).servers).toEqual(['nats://127.0.0.1:5222', 'nats://127.0.0.1:5223', 'nats://127.0.0.1:5224']);
    const conf = fs.readFileSync(members[1].confFile, 'utf8');
    expect(fs.statSync(members[1].confFile).mode & 0o777).toBe(0o600);
    expect(conf).toContain('include "nats.conf"');
    expect(conf).toContain('server_name: "mk-1"');
    expect(conf).toContain('listen: "127.0.0.1:5223"');
    expect(conf).toContain(`store_dir: ${JSON.stringify(path.join(paths.natsDir, 'store-1'))}`);
    expect(conf).toMatch(/routes: \[\n {4}"nats-route:\/\/route:[^@]+@127\.0\.0\.1:7222"\n {4}"nats-route:\/\/route:[^@]+@127\.0\.0\.1:7224"\n {2}\]/);
    // The route password is made once and kept.
    const again = applyTopology(paths, creds, t);
    expect(fs.readFileSync(again[1].confFile, 'utf8')).toBe(conf);
  });

  it('with an advertise address, each member listens on every address and tells clients its own port there', () => {
    const paths = clusterPaths(dir);
    const t = resolveTopology(paths, { natsServers: 3 });
    const creds = prepareClusterFiles(paths, { nodeName: 'n1', advertiseAddress: '10.9.9.9' });
    const members = applyTopology(paths, creds, t);
    for (const m of members) {
      const conf = fs.readFileSync(m.confFile, 'utf8');
      expect(conf).toContain(`listen: "0.0.0.0:${m.clientPort}"\nclient_advertise: "10.9.9.9:${m.clientPort}"`);
      // Routes stay on loopback.
      expect(conf).toContain(`listen: "127.0.0.1:${m.routePort}"`);
    }
    expect(readContext(dir).servers).toEqual(['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223', 'nats://127.0.0.1:4224']);
  });

  it('with one NATS server, leaves the single-server files as they are', () => {
    const paths = clusterPaths(dir);
    const creds = prepareClusterFiles(paths, { nodeName: 'n1' });
    expect(applyTopology(paths, creds, { controlPlanes: 2, natsServers: 1 })).toEqual([expect.objectContaining({ confFile: paths.natsConf, clientPort: 4222 })]);
    expect(readContext(dir).servers).toEqual(['nats://127.0.0.1:4222']);
  });

  it('names the supervisor children after the first as nats-1, control-plane-2', () => {
    expect([0, 1, 2].map(natsChild)).toEqual(['nats', 'nats-1', 'nats-2']);
    expect([0, 1, 2].map(controlPlaneChild)).toEqual(['control-plane', 'control-plane-2', 'control-plane-3']);
  });

  it('refuses a cluster of an even size', () => {
    expect(() => natsMembers(dir, 4222, 2)).toThrow(/1, 3 or 5 servers/);
    const m = natsMembers(dir, 4222, 3);
    expect(natsMemberConfig(path.join(dir, 'nats.conf'), m[0], m, 'p')).toContain('name: "mk"');
  });
});

describe('supervisedChildren', () => {
  it('lists what the supervisor starts, in its order: NATS servers, control planes, node agents', () => {
    expect(supervisedChildren({ natsServers: 1, controlPlanes: 1 }, 1)).toEqual(['nats', 'control-plane', 'node-agent']);
    expect(supervisedChildren({ natsServers: 3, controlPlanes: 2 }, 3)).toEqual([
      'nats', 'nats-1', 'nats-2', 'control-plane', 'control-plane-2', 'node-agent', 'node-agent-2', 'node-agent-3',
    ]);
  });
});
