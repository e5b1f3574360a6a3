/**
 * The node's function code cache and the functions.mk.io csi volume: one unpack per digest
 * however many pods ask at once, a missing object as the pod's volume error, unfinished unpacks
 * and unused code collected, code a pod uses kept (also when the pod comes while collect runs),
 * and the keep time counted from the last pod's end.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pack } from '../../bus/code-archive';
import { NotFoundError } from '../../messages/errors';
import type { Pod } from '../../messages/pod';
import { codeInUse, FunctionCodeCache } from './function-code';
import { PodVolumes } from './manager';
import type { Mounter } from './tmpfs';
import type { Volume } from './types';

const fakeMounter: Mounter = {
  isMountPoint: async () => false,
  mountTmpfs: async () => undefined,
  unmountUnder: async () => undefined,
};

const UID_A = '0b6c3e9a-1f0d-4c53-9d51-7a2f0d1c2b3a';
const UID_B = '1c7d4f0b-2a1e-4d64-8e62-8b3a1e2d3c4b';

const codeVolume = (digest: string, name = 'code'): Volume => ({ name, csi: { driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest } } });
const podWith = (volumes: Volume[], uid: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `add-${uid.slice(0, 5)}`, namespace: 'default', uid },
  spec: { containers: [{ name: 'function', image: 'registry.mk.local/mk-runtime-python3:latest' }], volumes } as Pod['spec'],
});

describe('FunctionCodeCache and the functions.mk.io csi volume', () => {
  let root: string;
  let objects: Map<string, Uint8Array>;
  let fetches: string[];
  let hold: Promise<void>;
  let cache: FunctionCodeCache;
  let volumes: PodVolumes;
  let digest: string;
  /** Added to the cache's clock, to make time pass for it. */
  let skew: number;
  const noObjects = { objects: { configMap: async () => undefined, secret: async () => undefined } };

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'mk-fncode-'));
    await mkdir(path.join(root, 'src', 'lib'), { recursive: true });
    await writeFile(path.join(root, 'src', 'add.py'), 'def handler(e):\n    return {"sum": e["a"] + e["b"]}\n');
    await writeFile(path.join(root, 'src', 'lib', 'util.py'), 'X = 1\n');
    const packed = pack(path.join(root, 'src'));
    digest = packed.digest;
    objects = new Map([[packed.digest, packed.bytes]]);
    fetches = [];
    hold = Promise.resolve();
    skew = 0;
    cache = new FunctionCodeCache({
      root: path.join(root, 'function-code'),
      now: () => Date.now() + skew,
      fetch: async (d) => {
        fetches.push(d);
        await hold;
        const bytes = objects.get(d);
        if (!bytes) throw new NotFoundError(`code ${d} not found in mk-function-code`);
        return bytes;
      },
    });
    volumes = new PodVolumes({ podsRoot: path.join(root, 'pods'), mounter: fakeMounter, functionCode: cache });
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  /** Waits (without a timer) until `cond` holds; fails after a deadline. */
  async function until(cond: () => boolean): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('condition not met within 5 s');
      await new Promise((r) => setImmediate(r));
    }
  }

  it('unpacks the code once into <root>/<hex> and mounts it read-only', async () => {
    const got = await volumes.setUp(podWith([codeVolume(digest)], UID_A), noObjects);
    const dir = path.join(root, 'function-code', digest.slice('sha256:'.length));
    expect(got.get('code')).toEqual({ hostPath: dir, readOnly: true, createSubPaths: false });
    expect(await readFile(path.join(dir, 'add.py'), 'utf8')).toContain('def handler');
    expect(await readFile(path.join(dir, 'lib', 'util.py'), 'utf8')).toBe('X = 1\n');
    await volumes.setUp(podWith([codeVolume(digest)], UID_B), noObjects);
    await volumes.setUp(podWith([codeVolume(digest)], UID_A), noObjects);
    expect(fetches).toEqual([digest]);
    expect(await readdir(path.join(root, 'function-code'))).toEqual([digest.slice('sha256:'.length)]);
    expect(await codeInUse(path.join(root, 'pods'))).toEqual(new Set([digest]));
  });

  it('gives concurrent pods of one digest one download and one directory', async () => {
    let open!: () => void;
    hold = new Promise<void>((r) => { open = r; });
    const ensure = jest.spyOn(cache, 'ensure');
    const pods = [UID_A, UID_B].map((uid) => volumes.setUp(podWith([codeVolume(digest)], uid), noObjects));
    // Both pods wait on the one download before it finishes.
    const deadline = Date.now() + 5_000;
    while (ensure.mock.calls.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(ensure).toHaveBeenCalledTimes(2);
    open();
    const [a, b] = await Promise.all(pods);
    expect(a.get('code')?.hostPath).toBe(b.get('code')?.hostPath);
    expect(fetches).toEqual([digest]);
    const entries = await readdir(path.join(root, 'function-code'));
    expect(entries).toEqual([digest.slice('sha256:'.length)]);
  });

  it('says a missing code object is not found, naming its digest', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    await expect(volumes.setUp(podWith([codeVolume(missing)], UID_A), noObjects))
      .rejects.toMatchObject({ name: 'VolumeError', volume: 'code', message: expect.stringContaining(`function code ${missing} not found`) });
    expect(await readdir(path.join(root, 'function-code')).catch(() => [])).toEqual([]);
  });

  it('refuses another driver, a malformed digest and a node without a cache', async () => {
    await expect(volumes.setUp(podWith([{ name: 'code', csi: { driver: 'other.example.com', readOnly: true } }], UID_A), noObjects))
      .rejects.toThrow(/csi driver "other.example.com" is not supported: the only driver is "functions.mk.io"/);
    await expect(volumes.setUp(podWith([codeVolume('sha256:nope')], UID_A), noObjects)).rejects.toThrow(/not a code digest/);
    const bare = new PodVolumes({ podsRoot: path.join(root, 'pods'), mounter: fakeMounter });
    await expect(bare.setUp(podWith([codeVolume(digest)], UID_A), noObjects)).rejects.toThrow(/keeps no function code/);
  });

  it('collects unfinished unpacks and unused code, keeping what pods use and what was used lately', async () => {
    const other = pack(path.join(root, 'src', 'lib'));
    objects.set(other.digest, other.bytes);
    await volumes.setUp(podWith([codeVolume(digest)], UID_A), noObjects);
    await volumes.setUp(podWith([codeVolume(other.digest)], UID_B), noObjects);
    const codeRoot = path.join(root, 'function-code');
    // An agent killed mid-unpack leaves this.
    await mkdir(path.join(codeRoot, `.tmp-${'f'.repeat(64)}-0a0b0c0d`, 'half'), { recursive: true });

    // The second pod goes: its code was just used, so it stays for the keep time...
    await volumes.tearDown(UID_B);
    const hexOther = other.digest.slice('sha256:'.length);
    expect((await readdir(codeRoot)).sort()).toEqual([digest.slice('sha256:'.length), hexOther].sort());
    // ...and goes once unused for longer.
    const old = new Date(Date.now() - 3_600_000);
    await utimes(path.join(codeRoot, hexOther), old, old);
    await utimes(path.join(codeRoot, digest.slice('sha256:'.length)), old, old);
    await volumes.collectFunctionCode();
    expect(await readdir(codeRoot)).toEqual([digest.slice('sha256:'.length)]);

    // At the agent's start everything unused goes at once; the first pod's code stays while it is there.
    await cache.collect(async () => new Set([digest]), 0);
    expect(await readdir(codeRoot)).toEqual([digest.slice('sha256:'.length)]);
    await volumes.tearDown(UID_A);
    await volumes.collectFunctionCode(true);
    expect(await readdir(codeRoot)).toEqual([]);
    // A pod using it again unpacks it again.
    await volumes.setUp(podWith([codeVolume(digest)], UID_A), noObjects);
    expect(fetches.filter((d) => d === digest)).toHaveLength(2);
  });

  it('releases the record of a finished pod, so its code can be collected', async () => {
    await volumes.setUp(podWith([codeVolume(digest)], UID_A), noObjects);
    expect(await codeInUse(path.join(root, 'pods'))).toEqual(new Set([digest]));
    await volumes.releaseEphemeral(UID_A);
    expect(await codeInUse(path.join(root, 'pods'))).toEqual(new Set());
  });

  it('keeps code a pod recorded and mounted after collect first read the records', async () => {
    const hex = digest.slice('sha256:'.length);
    const codeRoot = path.join(root, 'function-code');
    await volumes.setUp(podWith([codeVolume(digest)], UID_A), noObjects);
    await volumes.tearDown(UID_A);
    expect(await readdir(codeRoot)).toEqual([hex]);
    // The first read finds no pod using the code; a new pod then records it and mounts the
    // directory that is there, before collect goes on.
    let mounted: ReturnType<PodVolumes['setUp']> | undefined;
    const removed = await cache.collect(async () => {
      const seen = await codeInUse(path.join(root, 'pods'));
      if (!mounted) {
        mounted = volumes.setUp(podWith([codeVolume(digest)], UID_B), noObjects);
        await mounted;
      }
      return seen;
    }, 0);
    expect(removed).toEqual([]);
    const got = await mounted!;
    expect(got.get('code')?.hostPath).toBe(path.join(codeRoot, hex));
    expect(await readFile(path.join(codeRoot, hex, 'add.py'), 'utf8')).toContain('def handler');
    expect(await readdir(codeRoot)).toEqual([hex]);
    expect(fetches).toEqual([digest]);
  });

  it('makes a pod that asks for code being removed wait, then unpacks it again', async () => {
    const hex = digest.slice('sha256:'.length);
    const codeRoot = path.join(root, 'function-code');
    await volumes.setUp(podWith([codeVolume(digest)], UID_A), noObjects);
    await volumes.tearDown(UID_A);
    const ensure = jest.spyOn(cache, 'ensure');
    // The pod records the code only after collect's second read (made while it holds the
    // digest), so the code goes; the pod's setup reaches the cache during the removal.
    let reads = 0;
    let mounted: ReturnType<PodVolumes['setUp']> | undefined;
    const removed = await cache.collect(async () => {
      const seen = await codeInUse(path.join(root, 'pods'));
      if (++reads === 2) {
        mounted = volumes.setUp(podWith([codeVolume(digest)], UID_B), noObjects);
        await until(() => ensure.mock.calls.length === 1);
      }
      return seen;
    }, 0);
    expect(reads).toBe(2);
    expect(removed).toEqual([digest]);
    const got = await mounted!;
    expect(got.get('code')?.hostPath).toBe(path.join(codeRoot, hex));
    expect(await readFile(path.join(codeRoot, hex, 'add.py'), 'utf8')).toContain('def handler');
    expect(await readFile(path.join(codeRoot, hex, 'lib', 'util.py'), 'utf8')).toBe('X = 1\n');
    expect(fetches).toEqual([digest, digest]);
    // Nothing is left of the removed copy.
    expect(await readdir(codeRoot)).toEqual([hex]);
  });

  it('keeps code for the keep time after its last pod goes, however long the pod ran', async () => {
    const other = pack(path.join(root, 'src', 'lib'));
    objects.set(other.digest, other.bytes);
    const codeRoot = path.join(root, 'function-code');
    const hex = digest.slice('sha256:'.length);
    const hexOther = other.digest.slice('sha256:'.length);
    await volumes.setUp(podWith([codeVolume(digest)], UID_A), noObjects);
    await volumes.setUp(podWith([codeVolume(other.digest)], UID_B), noObjects);
    // Both pods ran for an hour after their code was set up.
    skew = 3_600_000;
    // One pod is deleted, the other finishes; each collect keeps the code its pod just used.
    await volumes.tearDown(UID_A);
    await volumes.releaseEphemeral(UID_B);
    expect(await codeInUse(path.join(root, 'pods'))).toEqual(new Set());
    expect((await readdir(codeRoot)).sort()).toEqual([hex, hexOther].sort());
    const mtime = (await stat(path.join(codeRoot, hex))).mtimeMs;
    expect(mtime).toBeGreaterThanOrEqual(Date.now() + skew - 60_000);
    // Just under the keep time later both stay; past it both go.
    skew += cache.keepUnusedMs - 60_000;
    await volumes.collectFunctionCode();
    expect((await readdir(codeRoot)).sort()).toEqual([hex, hexOther].sort());
    skew += 120_000;
    await volumes.collectFunctionCode();
    expect(await readdir(codeRoot)).toEqual([]);
  });
});
