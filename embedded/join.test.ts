import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { isAlreadyExists, isForbidden, isValidation } from '../messages';
import { prepareClusterFiles } from './credentials';
import { checkJoin, joinHint, reloadNatsServer } from './join';
import { writeJoinedNodes } from './joined-nodes';
import { clusterPaths, type ChildName } from './paths';
import { writePid } from './processes';
import { caCertHash, tlsPaths } from './tls';
import { createToken, listTokens, verifyToken } from './tokens';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-join-'));
  prepareClusterFiles(clusterPaths(dir), { nodeName: 'n1', port: 4333, advertiseAddress: '10.0.0.1' });
});
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
};

describe('joinHint', () => {
  it('makes a 24h token and prints the whole command the first time, then says how to make one', () => {
    const [intro, command] = joinHint(dir);
    expect(intro).toContain('this token works for 24h');
    const m = /^ {2}mk node-agent --join nats:\/\/10\.0\.0\.1:4333 --token (\S+) --ca-cert-hash (\S+)$/.exec(command);
    expect(m).not.toBeNull();
    expect(verifyToken(dir, m![1]).description).toBe('made by mk up');
    expect(m![2]).toBe(caCertHash(fs.readFileSync(tlsPaths(dir).caCert)));
    expect(joinHint(dir)).toEqual(['To join another machine: mk token create --print-join-command']);
    expect(listTokens(dir)).toHaveLength(1);
  });

  it('makes no token for a bus on loopback only, and says how to open it', () => {
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-join-'));
    try {
      prepareClusterFiles(clusterPaths(local), { nodeName: 'n1', port: 4334 });
      const lines = joinHint(local);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('mk up --advertise-address');
      expect(listTokens(local)).toHaveLength(0);
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  });
});

describe('checkJoin', () => {
  const key = (): string => nkeys.createUser().getPublicKey();
  it('accepts a good token, a free name and a user key', () => {
    const { token, stored } = createToken(dir, { ttlMs: 60_000 });
    expect(checkJoin(dir, { token, nodeName: 'n2', publicKey: key() })).toEqual({ existing: false, tokenId: stored.id });
  });

  it('refuses malformed requests, bad names and keys that are not user keys', () => {
    const { token } = createToken(dir, { ttlMs: 60_000 });
    expect(isValidation(thrown(() => checkJoin(dir, { token, nodeName: 'N_2', publicKey: key() })))).toBe(true);
    expect(isValidation(thrown(() => checkJoin(dir, { token, nodeName: 'n2', publicKey: nkeys.createAccount().getPublicKey() })))).toBe(true);
    expect(isValidation(thrown(() => checkJoin(dir, { token, nodeName: 'n2', publicKey: `U${'A'.repeat(55)}` })))).toBe(true);
    expect(isValidation(thrown(() => checkJoin(dir, { token } as never)))).toBe(true);
  });

  it('refuses a bad token as Forbidden', () => {
    const err = thrown(() => checkJoin(dir, { token: 'abcdef.0123456789abcdef', nodeName: 'n2', publicKey: key() }));
    expect(isForbidden(err)).toBe(true);
    expect((err as Error).message).toMatch(/^join refused: token "abcdef" is not valid/);
  });

  it('refuses a name that has credentials, and knows a retry with the same key', () => {
    const { token } = createToken(dir, { ttlMs: 60_000 });
    const k = key();
    writeJoinedNodes(dir, { n2: { nkey: k, joined: new Date().toISOString(), token: 'abcdef' } });
    expect(checkJoin(dir, { token, nodeName: 'n2', publicKey: k }).existing).toBe(true);
    expect(isAlreadyExists(thrown(() => checkJoin(dir, { token, nodeName: 'n2', publicKey: key() })))).toBe(true);
    expect(isAlreadyExists(thrown(() => checkJoin(dir, { token, nodeName: 'n1', publicKey: key() })))).toBe(true);
  });
});

describe('reloadNatsServer', () => {
  it('asks every running nats-server of the cluster to read its config again, and refuses when none runs', async () => {
    const paths = clusterPaths(dir);
    expect(() => reloadNatsServer(paths)).toThrow(/nats-server is not running/);
    // Stand-ins for members 0 and 2 (member 1 is down): each notes a SIGHUP in a file of its own.
    const procs = ['nats', 'nats-2'].map((name) => {
      const mark = path.join(dir, `${name}.hup`);
      const p = spawn('sh', ['-c', 'trap "echo hup > $1" HUP; while :; do sleep 0.05; done', dir, mark], { stdio: 'ignore' });
      writePid(paths.pid(name as ChildName), p.pid!);
      return { p, mark };
    });
    try {
      // The shell has set its trap once its loop runs a sleep.
      await until('the stand-ins ready', () => (procs.every(({ p }) => hasChild(p.pid!)) ? true : undefined), 10_000);
      reloadNatsServer(paths);
      await until('both reloaded', () => (procs.every(({ mark }) => fs.existsSync(mark)) ? true : undefined), 10_000);
    } finally {
      for (const { p } of procs) p.kill('SIGKILL');
    }
  });
});

/** Polls `ok` until it holds; throws naming `what` after `ms`. */
async function until(what: string, ok: () => true | undefined, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function hasChild(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().length > 0;
  } catch {
    return false;
  }
}
