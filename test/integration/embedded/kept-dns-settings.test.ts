/**
 * `mk up --cluster-domain D --dns-upstream U` is kept in credentials.json like --pod-network: a
 * later start without the flags keeps them, one with them replaces them, and the supervisor gives
 * them to the node agent as its own flags, so an agent it restarts after a crash serves the same
 * DNS. The supervisor runs here in-process with a real nats-server and a stand-in `run.js` that
 * records each child's command line (the node agent's first run kills itself).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeDnsArgs, prepareClusterFiles, readCredentials } from '../../../embedded/credentials';
import { dnsSettingsToKeep } from '../../../embedded/dns-settings';
import { freePort } from '../../../embedded/metrics-endpoints';
import { clusterPaths } from '../../../embedded/paths';
import { findNatsServer, supervise } from '../../../embedded/supervise';
import { livePid } from '../../../embedded/processes';
import { until } from '../../helpers/wait';

jest.setTimeout(60_000);

// Records `<command> <args...>` as one JSON line; a node agent's first run dies at once (SIGKILL).
const FAKE_RUN_JS = `
const fs = require('fs');
const [cmd, ...args] = process.argv.slice(2);
const log = process.env.MK_TEST_ARGV_LOG;
const before = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\\n').filter((l) => l.includes('"node-agent"')).length : 0;
fs.appendFileSync(log, JSON.stringify({ cmd, args, pid: process.pid }) + '\\n');
if (cmd === 'node-agent' && before === 0) process.kill(process.pid, 'SIGKILL');
const t = setInterval(() => undefined, 1000);
process.on('SIGTERM', () => { clearInterval(t); process.exit(0); });
`;

describe('kept cluster DNS settings', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-kept-dns-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads what to keep from what mk up puts in the environment', () => {
    expect(dnsSettingsToKeep({})).toEqual({});
    expect(dnsSettingsToKeep({ MK_CLUSTER_DOMAIN: 'Corp.Example.', MK_DNS_UPSTREAM: '127.0.0.1:5353, 127.0.0.2' }))
      .toEqual({ clusterDomain: 'corp.example', dnsUpstreams: ['127.0.0.1:5353', '127.0.0.2'] });
    expect(dnsSettingsToKeep({ MK_DNS_UPSTREAM: 'none' })).toEqual({ dnsUpstreams: ['none'] });
  });

  it('keeps them across starts until given again, and makes node agent flags of them', () => {
    const paths = clusterPaths(dir);
    expect(nodeDnsArgs(prepareClusterFiles(paths, { nodeName: 'n1' }))).toEqual([]);
    prepareClusterFiles(paths, { nodeName: 'n1', clusterDomain: 'corp.example', dnsUpstreams: ['127.0.0.1:5353', '127.0.0.2'] });
    const later = prepareClusterFiles(paths, { nodeName: 'n1' });
    expect(nodeDnsArgs(later)).toEqual(['--cluster-domain', 'corp.example', '--dns-upstream', '127.0.0.1:5353', '--dns-upstream', '127.0.0.2']);
    expect(readCredentials(paths)).toMatchObject({ clusterDomain: 'corp.example', dnsUpstreams: ['127.0.0.1:5353', '127.0.0.2'] });
    // One given again replaces only itself.
    const changed = prepareClusterFiles(paths, { nodeName: 'n1', dnsUpstreams: ['none'] });
    expect(nodeDnsArgs(changed)).toEqual(['--cluster-domain', 'corp.example', '--dns-upstream', 'none']);
  });

  const nats = findNatsServer();
  (nats ? it : it.skip)('reach the node agent the supervisor starts, and the one it restarts after a SIGKILL', async () => {
    const paths = clusterPaths(dir);
    const runJs = path.join(dir, 'run.js');
    const argvLog = path.join(dir, 'argv.log');
    fs.writeFileSync(runJs, FAKE_RUN_JS);
    const oldEnv = { log: process.env.MK_TEST_ARGV_LOG, domain: process.env.MK_CLUSTER_DOMAIN, up: process.env.MK_DNS_UPSTREAM };
    process.env.MK_TEST_ARGV_LOG = argvLog;
    // Only the kept settings may carry them: nothing in the environment.
    delete process.env.MK_CLUSTER_DOMAIN;
    delete process.env.MK_DNS_UPSTREAM;
    // The first start keeps them; the supervisor is given the credentials of a later start without them.
    prepareClusterFiles(paths, { nodeName: 'n1', port: await freePort(), clusterDomain: 'corp.example', dnsUpstreams: ['none'] });
    const creds = prepareClusterFiles(paths, { nodeName: 'n1' });
    const lines: string[] = [];
    const running = supervise({ paths, creds, runJs, natsServer: nats!, log: (l) => lines.push(l) });
    const agents = (): { args: string[]; pid: number }[] => (fs.existsSync(argvLog) ? fs.readFileSync(argvLog, 'utf8') : '')
      .split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { cmd: string; args: string[]; pid: number }).filter((r) => r.cmd === 'node-agent');
    try {
      const [first, second] = await until('the node agent to be restarted', () => (agents().length >= 2 ? agents() : undefined), 30_000);
      for (const a of [first!, second!]) {
        const at = a.args.indexOf('--cluster-domain');
        expect(a.args.slice(at, at + 2)).toEqual(['--cluster-domain', 'corp.example']);
        expect(a.args).toContain('--dns-upstream');
        expect(a.args[a.args.indexOf('--dns-upstream') + 1]).toBe('none');
      }
      expect(second!.pid).not.toBe(first!.pid);
      expect(livePid(paths.pid('node-agent'), paths.dataDir)).toBe(second!.pid);
    } finally {
      // What SIGHUP to the supervisor does; no real signal reaches this process.
      process.emit('SIGHUP', 'SIGHUP');
      expect(await running).toBe('stopped');
      process.env.MK_TEST_ARGV_LOG = oldEnv.log;
      if (oldEnv.log === undefined) delete process.env.MK_TEST_ARGV_LOG;
      if (oldEnv.domain !== undefined) process.env.MK_CLUSTER_DOMAIN = oldEnv.domain;
      if (oldEnv.up !== undefined) process.env.MK_DNS_UPSTREAM = oldEnv.up;
    }
    expect(lines.join('\n')).toContain('stopped');
  });
});
