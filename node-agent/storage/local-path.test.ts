import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import {
  LOCAL_PATH_PROVISIONER, PROVISIONED_BY_ANNOTATION, type LocalVolume, type PersistentVolume,
} from '../../messages';
import { ensureLocalVolumeDir, syncLocalVolumes, unsafeDirectory, type LocalVolumesClient } from './local-path';

const log = pino({ level: 'silent' });
let root: string;
beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-local-path-')); });
afterEach(() => { fs.rmSync(root, { recursive: true, force: true }); });

const vol = (name: string, extra: Partial<LocalVolume> = {}): LocalVolume => ({
  name, uid: `uid-${name}`, path: path.join(root, 'storage', `${name}_default_data`), reclaimPolicy: 'Delete', deleting: false, ...extra,
});

/** A client that records what was reported cleaned; `failCleaned` makes every report fail. */
function client(failCleaned = false): LocalVolumesClient & { cleaned: jest.Mock } {
  return {
    list: async () => [],
    cleaned: jest.fn(async () => { if (failCleaned) throw new Error('control plane unavailable'); }),
  };
}

describe('syncLocalVolumes', () => {
  it('makes the directory of a live volume, world-writable, and reports nothing', async () => {
    const c = client();
    const v = vol('pvc-1');
    const res = await syncLocalVolumes([v], c, log);
    expect(res.created).toEqual(['pvc-1']);
    expect(fs.statSync(v.path).isDirectory()).toBe(true);
    expect(fs.statSync(v.path).mode & 0o777).toBe(0o777);
    expect(c.cleaned).not.toHaveBeenCalled();
    // Again: nothing changes, the data stays.
    fs.writeFileSync(path.join(v.path, 'f'), 'x');
    await syncLocalVolumes([v], c, log);
    expect(fs.readFileSync(path.join(v.path, 'f'), 'utf8')).toBe('x');
  });

  it('removes the directory of a deleted Delete volume and then reports it cleaned', async () => {
    const c = client();
    const v = vol('pvc-2');
    await syncLocalVolumes([v], c, log);
    fs.writeFileSync(path.join(v.path, 'f'), 'x');
    const res = await syncLocalVolumes([{ ...v, deleting: true }], c, log);
    expect(res.removed).toEqual(['pvc-2']);
    expect(fs.existsSync(v.path)).toBe(false);
    expect(c.cleaned).toHaveBeenCalledWith(expect.objectContaining({ name: 'pvc-2', uid: 'uid-pvc-2' }));
    // Gone already (a crash after the removal, before the report): reported again, nothing fails.
    const again = await syncLocalVolumes([{ ...v, deleting: true }], c, log);
    expect(again.failed).toEqual([]);
    expect(c.cleaned).toHaveBeenCalledTimes(2);
  });

  it('keeps the directory of a deleted Retain volume and reports it cleaned', async () => {
    const c = client();
    const v = vol('pvc-3', { reclaimPolicy: 'Retain' });
    await syncLocalVolumes([v], c, log);
    const res = await syncLocalVolumes([{ ...v, deleting: true }], c, log);
    expect(res.kept).toEqual(['pvc-3']);
    expect(fs.statSync(v.path).isDirectory()).toBe(true);
    expect(c.cleaned).toHaveBeenCalledTimes(1);
  });

  it('never makes or removes a directory not named as the provisioner names it', async () => {
    const c = client();
    const victim = path.join(root, 'precious');
    fs.mkdirSync(victim);
    const bad = vol('pvc-4', { path: victim, deleting: true });
    const res = await syncLocalVolumes([bad], c, log);
    expect(res.kept).toEqual(['pvc-4']);
    expect(fs.existsSync(victim)).toBe(true);
    const made = await syncLocalVolumes([vol('pvc-5', { path: path.join(root, 'elsewhere') })], c, log);
    expect(made.failed).toEqual(['pvc-5']);
    expect(fs.existsSync(path.join(root, 'elsewhere'))).toBe(false);
  });

  it('leaves a volume whose report failed for the next pass, and goes on with the others', async () => {
    const c = client(true);
    const a = vol('pvc-6', { deleting: true });
    const b = vol('pvc-7');
    const res = await syncLocalVolumes([a, b], c, log);
    expect(res.failed).toEqual(['pvc-6']);
    expect(res.created).toEqual(['pvc-7']);
  });
});

describe('unsafeDirectory', () => {
  it('takes only normal absolute paths named <volume>_...', () => {
    expect(unsafeDirectory({ name: 'pvc-1', path: '/var/lib/mk/storage/pvc-1_default_data' })).toBeUndefined();
    expect(unsafeDirectory({ name: 'pvc-1', path: 'storage/pvc-1_default_data' })).toMatch(/not a normal absolute path/);
    expect(unsafeDirectory({ name: 'pvc-1', path: '/a/../pvc-1_x' })).toMatch(/not a normal absolute path/);
    expect(unsafeDirectory({ name: 'pvc-1', path: '/' })).toMatch(/as the provisioner names it/);
    expect(unsafeDirectory({ name: 'pvc-1', path: '/etc' })).toMatch(/as the provisioner names it/);
    expect(unsafeDirectory({ name: 'pvc-1', path: '/x/pvc-12_default_data' })).toMatch(/as the provisioner names it/);
  });
});

describe('ensureLocalVolumeDir', () => {
  const pv = (node: string, annotated = true): PersistentVolume => ({
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name: 'pvc-9', ...(annotated ? { annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER } } : {}) },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], local: { path: path.join(root, 'pvc-9_default_data') },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
  });

  it("makes the directory of this node's local-path volume, and of no other", async () => {
    await ensureLocalVolumeDir(pv('node-b'), 'node-a');
    await ensureLocalVolumeDir(pv('node-a', false), 'node-a');
    expect(fs.existsSync(path.join(root, 'pvc-9_default_data'))).toBe(false);
    await ensureLocalVolumeDir(pv('node-a'), 'node-a');
    expect(fs.statSync(path.join(root, 'pvc-9_default_data')).mode & 0o777).toBe(0o777);
  });
});
