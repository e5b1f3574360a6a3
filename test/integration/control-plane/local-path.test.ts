/**
 * The local-path provisioner against a real nats-server and an in-process control plane, with the
 * node's half (node-agent/storage) running in the test on a temporary directory: a claim the
 * scheduler selected a node for gets a local volume on that node, which binds and whose directory
 * the node makes; deleting a claim of a Delete class removes the volume and its directory, of a
 * Retain class keeps both; a node sees and releases only its own volumes; claims the provisioner
 * cannot serve get ProvisioningFailed; the built-in class is made once and never overwritten.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { ensureLocalPathClass } from '../../../actors/bootstrap';
import { request } from '../../../bus';
import { listEvents } from '../../../bus/events';
import {
  isForbidden, isNotFound, LOCAL_PATH_CLASS_NAME, LOCAL_PATH_CLEANUP_FINALIZER, LOCAL_PATH_PROVISIONER, nodeApiSubject, objectKey,
  PROVISIONED_BY_ANNOTATION, SELECTED_NODE_ANNOTATION, volumeNodeName,
  type ApplyResult, type DeleteResult, type GetResult, type LocalVolumesResult, type Node, type PersistentVolume,
  type PersistentVolumeClaim, type StorageClass,
} from '../../../messages';
import { startLocalPathStorage, type LocalPathStorage } from '../../../node-agent/storage';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { caught } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(60_000);

let f: ControlPlaneFixture;
let base: string;
let nodeA: LocalPathStorage;
beforeAll(async () => {
  f = await startControlPlane('cp-local-path-test');
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-local-path-it-'));
  for (const name of ['node-a', 'node-b']) {
    const node: Node = {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name, uid: `uid-${name}`, creationTimestamp: new Date().toISOString(), labels: { 'kubernetes.io/hostname': name } },
      spec: {},
    };
    await f.store.create(objectKey('nodes', undefined, name), node);
  }
  // Nudged only: a pass every minute would come too late for the waits below.
  nodeA = startLocalPathStorage({ bus: f.bus, nodeName: 'node-a', log: pino({ level: 'silent' }), resyncMs: 60_000 });
});
afterAll(async () => {
  await nodeA?.stop();
  await f?.stop();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

const lpClass = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name },
  provisioner: LOCAL_PATH_PROVISIONER, volumeBindingMode: 'WaitForFirstConsumer', parameters: { nodePath: base }, ...extra,
});
const pvc = (name: string, cls: string, node?: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim',
  metadata: { name, ...(node ? { annotations: { [SELECTED_NODE_ANNOTATION]: node } } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: cls, ...spec },
});
const apply = async <T>(o: unknown): Promise<T> => (await f.api<ApplyResult>('apply', { object: o })).object as unknown as T;
const get = async <T>(kind: string, name: string): Promise<T | undefined> => {
  try {
    return (await f.api<GetResult>('get', { kind, name, namespace: 'default' })).object as unknown as T;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
};
const del = (kind: string, name: string) => f.api<DeleteResult>('delete', { kind, name, namespace: 'default' });
const bound = (name: string) => until(`claim ${name} Bound`, async () => {
  const c = await get<PersistentVolumeClaim>('pvc', name);
  return c?.status?.phase === 'Bound' ? c : undefined;
});
const gone = (kind: string, name: string) => until(`${kind} ${name} gone`, async () => ((await get(kind, name)) ? undefined : true));
const claimEvent = (name: string, reason: string) => until(`event ${reason} on claim ${name}`, async () =>
  (await listEvents(f.bus, { namespace: 'default', involvedKind: 'PersistentVolumeClaim', involvedName: name })).items.find((e) => e.reason === reason));
const exists = (p: string) => until(`${p} exists`, () => (fs.existsSync(p) ? true : undefined));

beforeAll(async () => {
  await apply(lpClass('lp-delete', { reclaimPolicy: 'Delete' }));
  await apply(lpClass('lp-retain', { reclaimPolicy: 'Retain' }));
});

it('provisions a local volume on the selected node, binds it, and the node makes its directory', async () => {
  const c0 = await apply<PersistentVolumeClaim>(pvc('data', 'lp-delete', 'node-a'));
  const c = await bound('data');
  const name = `pvc-${c0.metadata.uid}`;
  expect(c.spec.volumeName).toBe(name);
  const pv = (await get<PersistentVolume>('pv', name))!;
  expect(pv.metadata.annotations?.[PROVISIONED_BY_ANNOTATION]).toBe(LOCAL_PATH_PROVISIONER);
  expect(pv.metadata.finalizers).toContain(LOCAL_PATH_CLEANUP_FINALIZER);
  expect(pv.spec).toMatchObject({
    capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'lp-delete',
    local: { path: path.join(base, `${name}_default_data`) }, claimRef: { name: 'data', uid: c0.metadata.uid },
  });
  expect(volumeNodeName(pv)).toBe('node-a');
  expect(pv.status?.phase).toBe('Bound');
  await exists(pv.spec.local!.path);
  expect(fs.statSync(pv.spec.local!.path).mode & 0o777).toBe(0o777);
  expect(await claimEvent('data', 'Provisioning')).toMatchObject({ message: 'External provisioner is provisioning volume for claim "default/data"' });
  expect(await claimEvent('data', 'ProvisioningSucceeded')).toMatchObject({ message: `Successfully provisioned volume ${name}` });
});

it('removes the volume and its directory when a claim of a Delete class goes', async () => {
  const c = await apply<PersistentVolumeClaim>(pvc('scratch', 'lp-delete', 'node-a'));
  await bound('scratch');
  const name = `pvc-${c.metadata.uid}`;
  const dir = (await get<PersistentVolume>('pv', name))!.spec.local!.path;
  await exists(dir);
  fs.writeFileSync(path.join(dir, 'data.txt'), 'x');
  await del('pvc', 'scratch');
  await gone('pv', name);
  expect(fs.existsSync(dir)).toBe(false);
});

it('keeps the directory of a deleted Delete volume while it is still bound, and removes it once its claim goes', async () => {
  const c = await apply<PersistentVolumeClaim>(pvc('in-use', 'lp-delete', 'node-a'));
  await bound('in-use');
  const name = `pvc-${c.metadata.uid}`;
  const dir = (await get<PersistentVolume>('pv', name))!.spec.local!.path;
  await exists(dir);
  fs.writeFileSync(path.join(dir, 'data.txt'), 'live');
  await del('pv', name);
  await until(`volume ${name} being deleted`, async () => ((await get<PersistentVolume>('pv', name))?.metadata.deletionTimestamp ? true : undefined));
  await nodeA.sync();
  const seen = await request<LocalVolumesResult>(f.bus, nodeApiSubject('node-a', 'local-volumes'), {});
  expect(seen.volumes.find((v) => v.name === name)).toMatchObject({ deleting: false });
  expect(fs.readFileSync(path.join(dir, 'data.txt'), 'utf8')).toBe('live');
  expect((await get<PersistentVolume>('pv', name))?.status?.phase).toBe('Bound');
  const early = await caught(request(f.bus, nodeApiSubject('node-a', 'local-volume-cleaned'), { name, uid: (await get<PersistentVolume>('pv', name))!.metadata.uid }));
  expect(String(early)).toMatch(/is still bound to a claim/);
  await del('pvc', 'in-use');
  await gone('pv', name);
  expect(fs.existsSync(dir)).toBe(false);
});

it('keeps the volume and its directory when a claim of a Retain class goes, and the directory when the volume is deleted', async () => {
  const c = await apply<PersistentVolumeClaim>(pvc('keep', 'lp-retain', 'node-a'));
  await bound('keep');
  const name = `pvc-${c.metadata.uid}`;
  const dir = (await get<PersistentVolume>('pv', name))!.spec.local!.path;
  await exists(dir);
  fs.writeFileSync(path.join(dir, 'data.txt'), 'kept');
  await del('pvc', 'keep');
  await gone('pvc', 'keep');
  await until(`volume ${name} Released`, async () => ((await get<PersistentVolume>('pv', name))?.status?.phase === 'Released' ? true : undefined));
  expect(fs.readFileSync(path.join(dir, 'data.txt'), 'utf8')).toBe('kept');
  await del('pv', name);
  await gone('pv', name);
  expect(fs.readFileSync(path.join(dir, 'data.txt'), 'utf8')).toBe('kept');
});

it("shows a node only its own volumes and refuses to let it release another node's", async () => {
  const c = await apply<PersistentVolumeClaim>(pvc('mine', 'lp-retain', 'node-a'));
  await bound('mine');
  const name = `pvc-${c.metadata.uid}`;
  const asB = await request<LocalVolumesResult>(f.bus, nodeApiSubject('node-b', 'local-volumes'), {});
  expect(asB.volumes.map((v) => v.name)).not.toContain(name);
  const asA = await request<LocalVolumesResult>(f.bus, nodeApiSubject('node-a', 'local-volumes'), {});
  expect(asA.volumes.find((v) => v.name === name)).toMatchObject({ reclaimPolicy: 'Retain', deleting: false });
  const err = await caught(request(f.bus, nodeApiSubject('node-b', 'local-volume-cleaned'), { name, uid: (await get<PersistentVolume>('pv', name))!.metadata.uid }));
  expect(isForbidden(err)).toBe(true);
  expect(String(err)).toMatch(/node node-b may not release persistentvolume/);
  // Not being deleted: the node may not release it either.
  const own = await caught(request(f.bus, nodeApiSubject('node-a', 'local-volume-cleaned'), { name, uid: (await get<PersistentVolume>('pv', name))!.metadata.uid }));
  expect(String(own)).toMatch(/is not being deleted/);
});

it('says why it cannot provision: an Immediate class, a shared access mode, a node that does not exist', async () => {
  await apply(lpClass('lp-now', { volumeBindingMode: 'Immediate' }));
  await apply(pvc('now', 'lp-now'));
  expect((await claimEvent('now', 'ProvisioningFailed')).message).toMatch(/no node was specified/);
  await apply(pvc('shared', 'lp-delete', 'node-a', { accessModes: ['ReadWriteMany'] }));
  expect((await claimEvent('shared', 'ProvisioningFailed')).message).toMatch(/access mode ReadWriteMany is not supported/);
  await apply(pvc('nowhere', 'lp-delete', 'node-z'));
  expect((await claimEvent('nowhere', 'ProvisioningFailed')).message).toMatch(/node "node-z" not found/);
  expect((await get<PersistentVolumeClaim>('pvc', 'shared'))?.status?.phase).toBe('Pending');
});

it('makes the built-in local-path class once, as the default, and never overwrites it', async () => {
  await ensureLocalPathClass(f.store, '/srv/mk/storage');
  const sc = (await f.api<GetResult>('get', { kind: 'storageclass', name: LOCAL_PATH_CLASS_NAME })).object as unknown as StorageClass;
  expect(sc).toMatchObject({
    provisioner: LOCAL_PATH_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', parameters: { nodePath: '/srv/mk/storage' },
    metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  });
  await apply({ ...sc, metadata: { name: sc.metadata.name, annotations: { 'storageclass.kubernetes.io/is-default-class': 'false' } } });
  await ensureLocalPathClass(f.store, '/elsewhere');
  const after = (await f.api<GetResult>('get', { kind: 'storageclass', name: LOCAL_PATH_CLASS_NAME })).object as unknown as StorageClass;
  expect(after.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('false');
  expect(after.parameters).toEqual({ nodePath: '/srv/mk/storage' });
});
