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

/** A claim uid per short tag: `uuid('1')` is 11111111-1111-1111-1111-111111111111. */
const uuid = (tag: string): string => [8, 4, 4, 4, 12].map((n) => tag.repeat(n)).join('-');

/** A provisioned volume `pvc-<claim uid>` of claim default/data, in `<root>/storage`. */
const vol = (tag: string, extra: Partial<LocalVolume> = {}): LocalVolume => ({
  name: `pvc-${uuid(tag)}`, uid: `uid-${tag}`, path: path.join(root, 'storage', `pvc-${uuid(tag)}_default_data`),
  claim: { uid: uuid(tag), namespace: 'default', name: 'data' }, reclaimPolicy: 'Delete', deleting: false, ...extra,
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
    const v = vol('1');
    const res = await syncLocalVolumes([v], c, log);
    expect(res.created).toEqual([`pvc-${uuid('1')}`]);
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
    const v = vol('2');
    await syncLocalVolumes([v], c, log);
    fs.writeFileSync(path.join(v.path, 'f'), 'x');
    const res = await syncLocalVolumes([{ ...v, deleting: true }], c, log);
    expect(res.removed).toEqual([`pvc-${uuid('2')}`]);
    expect(fs.existsSync(v.path)).toBe(false);
    expect(c.cleaned).toHaveBeenCalledWith(expect.objectContaining({ name: `pvc-${uuid('2')}`, uid: 'uid-2' }));
    // Gone already (a crash after the removal, before the report): reported again, nothing fails.
    const again = await syncLocalVolumes([{ ...v, deleting: true }], c, log);
    expect(again.failed).toEqual([]);
    expect(c.cleaned).toHaveBeenCalledTimes(2);
  });

  it('keeps the directory of a deleted Retain volume and reports it cleaned', async () => {
    const c = client();
    const v = vol('3', { reclaimPolicy: 'Retain' });
    await syncLocalVolumes([v], c, log);
    const res = await syncLocalVolumes([{ ...v, deleting: true }], c, log);
    expect(res.kept).toEqual([`pvc-${uuid('3')}`]);
    expect(fs.statSync(v.path).isDirectory()).toBe(true);
    expect(c.cleaned).toHaveBeenCalledTimes(1);
  });

  it('never makes or removes a directory not named as the provisioner names it', async () => {
    const c = client();
    const victim = path.join(root, 'precious');
    fs.mkdirSync(victim);
    const bad = vol('4', { path: victim, deleting: true });
    const res = await syncLocalVolumes([bad], c, log);
    expect(res.kept).toEqual([`pvc-${uuid('4')}`]);
    expect(fs.existsSync(victim)).toBe(true);
    const made = await syncLocalVolumes([vol('5', { path: path.join(root, 'elsewhere') })], c, log);
    expect(made.failed).toEqual([`pvc-${uuid('5')}`]);
    expect(fs.existsSync(path.join(root, 'elsewhere'))).toBe(false);
  });

  it('leaves a volume whose report failed for the next pass, and goes on with the others', async () => {
    const c = client(true);
    const a = vol('6', { deleting: true });
    const b = vol('7');
    const res = await syncLocalVolumes([a, b], c, log);
    expect(res.failed).toEqual([`pvc-${uuid('6')}`]);
    expect(res.created).toEqual([`pvc-${uuid('7')}`]);
  });
});

describe('unsafeDirectory', () => {
  const claim = { uid: uuid('a'), namespace: 'default', name: 'data' };
  const v = (name: string, p: string, c: LocalVolume['claim'] | null = claim) => ({ name, path: p, ...(c ? { claim: c } : {}) });
  const good = `pvc-${uuid('a')}`;
  it('takes only a volume pvc-<uuid> whose directory is exactly the one the provisioner names for its claim', () => {
    expect(unsafeDirectory(v(good, `/var/lib/mk/storage/${good}_default_data`))).toBeUndefined();
    expect(unsafeDirectory(v(good, `storage/${good}_default_data`))).toMatch(/not a normal absolute path/);
    expect(unsafeDirectory(v(good, `/a/../${good}_default_data`))).toMatch(/not a normal absolute path/);
    expect(unsafeDirectory(v(good, '/'))).toMatch(/as the provisioner names it/);
    expect(unsafeDirectory(v(good, '/etc'))).toMatch(/as the provisioner names it/);
    expect(unsafeDirectory(v(good, `/x/${good}_default_data2`))).toMatch(`is not the directory "${good}_default_data"`);
    expect(unsafeDirectory(v(good, `/x/${good}_other_data`))).toMatch(/as the provisioner names it/);
    // A hand-made volume carrying the provisioner's annotation cannot name a system directory.
    expect(unsafeDirectory(v('x86', '/usr/lib/x86_64-linux-gnu'))).toMatch('volume name "x86" is not pvc-<claim uid>');
    expect(unsafeDirectory(v('pvc-1', '/x/pvc-1_default_data', { ...claim, uid: '1' }))).toMatch(/is not pvc-<claim uid>/);
    // The volume's name must be that of its claim's uid, and it must have a claim.
    expect(unsafeDirectory(v(`pvc-${uuid('b')}`, `/x/pvc-${uuid('b')}_default_data`))).toMatch(/is not pvc-<claim uid>/);
    expect(unsafeDirectory(v(good, `/x/${good}_default_data`, null))).toMatch(/names no claim/);
  });
});

describe('ensureLocalVolumeDir', () => {
  const pv = (node: string, annotated = true): PersistentVolume => ({
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name: `pvc-${uuid('9')}`, ...(annotated ? { annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER } } : {}) },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], local: { path: path.join(root, `pvc-${uuid('9')}_default_data`) },
      claimRef: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: uuid('9') },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
  });

  it("makes the directory of this node's local-path volume, and of no other", async () => {
    await ensureLocalVolumeDir(pv('node-b'), 'node-a');
    await ensureLocalVolumeDir(pv('node-a', false), 'node-a');
    expect(fs.existsSync(path.join(root, `pvc-${uuid('9')}_default_data`))).toBe(false);
    await ensureLocalVolumeDir(pv('node-a'), 'node-a');
    expect(fs.statSync(path.join(root, `pvc-${uuid('9')}_default_data`)).mode & 0o777).toBe(0o777);
  });
});
