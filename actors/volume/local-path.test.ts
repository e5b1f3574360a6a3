import {
  LOCAL_PATH_CLEANUP_FINALIZER, LOCAL_PATH_DEFAULT_BASE, LOCAL_PATH_PROVISIONER, PROVISIONED_BY_ANNOTATION, SELECTED_NODE_ANNOTATION,
  volumeNodeName, type Node, type PersistentVolumeClaim,
} from '../../messages';
import { claim, storageClass } from './fixtures';
import { decideProvisioning, provisionedVolumeName } from './local-path';

const node = (name: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {} });
const lp = (extra: Parameters<typeof storageClass>[1] = {}) =>
  storageClass('local-path', { provisioner: LOCAL_PATH_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', ...extra });
const selected = (c: PersistentVolumeClaim, n = 'node-a'): PersistentVolumeClaim =>
  ({ ...c, metadata: { ...c.metadata, annotations: { [SELECTED_NODE_ANNOTATION]: n } } });
const data = (spec: Partial<PersistentVolumeClaim['spec']> = {}) => selected(claim('data', '1Gi', { storageClassName: 'local-path', ...spec }));

describe('decideProvisioning', () => {
  it('makes pvc-<uid> on the selected node, pre-bound to the claim, with the class policy and the cleanup finalizer', () => {
    const d = decideProvisioning({ claim: data(), storageClass: lp(), volumeExists: false, node: node('node-a') });
    if (d.action !== 'provision') throw new Error(`expected a volume, got ${d.action}`);
    const pv = d.volume;
    expect(pv.metadata.name).toBe('pvc-uid-data');
    expect(pv.metadata.annotations).toEqual({ [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER });
    expect(pv.metadata.finalizers).toEqual([LOCAL_PATH_CLEANUP_FINALIZER]);
    expect(pv.spec).toMatchObject({
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', persistentVolumeReclaimPolicy: 'Delete',
      claimRef: { namespace: 'default', name: 'data', uid: 'uid-data' },
      local: { path: `${LOCAL_PATH_DEFAULT_BASE}/pvc-uid-data_default_data` },
    });
    expect(volumeNodeName(pv)).toBe('node-a');
    expect(d.events.before).toEqual({ type: 'Normal', reason: 'Provisioning', message: 'External provisioner is provisioning volume for claim "default/data"' });
    expect(d.events.after).toEqual({ type: 'Normal', reason: 'ProvisioningSucceeded', message: 'Successfully provisioned volume pvc-uid-data' });
  });

  it('puts the directory under the class parameter nodePath and keeps Retain', () => {
    const d = decideProvisioning({ claim: data(), storageClass: lp({ parameters: { nodePath: '/srv/vols/' }, reclaimPolicy: 'Retain' }), volumeExists: false, node: node('node-a') });
    expect(d).toMatchObject({ action: 'provision', volume: { spec: { local: { path: '/srv/vols/pvc-uid-data_default_data' }, persistentVolumeReclaimPolicy: 'Retain' } } });
  });

  it('normalizes nodePath, so the node gets the normal path it insists on', () => {
    for (const nodePath of ['/srv//vols', '/srv/./vols/', '/srv/vols//']) {
      const d = decideProvisioning({ claim: data(), storageClass: lp({ parameters: { nodePath } }), volumeExists: false, node: node('node-a') });
      expect(d).toMatchObject({ action: 'provision', volume: { spec: { local: { path: '/srv/vols/pvc-uid-data_default_data' } } } });
    }
    expect(failure({ claim: data(), storageClass: lp({ parameters: { nodePath: '//' } }), volumeExists: false, node: node('node-a') })).toMatch(/other than \//);
  });

  it('leaves alone claims of other provisioners, bound or deleted ones, and those whose volume exists', () => {
    const other = storageClass('manual', { volumeBindingMode: 'WaitForFirstConsumer' });
    expect(decideProvisioning({ claim: data({ storageClassName: 'manual' }), storageClass: other, volumeExists: false, node: node('node-a') }).action).toBe('none');
    expect(decideProvisioning({ claim: data(), storageClass: undefined, volumeExists: false, node: node('node-a') }).action).toBe('none');
    expect(decideProvisioning({ claim: data({ volumeName: 'x' }), storageClass: lp(), volumeExists: false, node: node('node-a') }).action).toBe('none');
    const deleting = data();
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(decideProvisioning({ claim: deleting, storageClass: lp(), volumeExists: false, node: node('node-a') }).action).toBe('none');
    expect(decideProvisioning({ claim: data(), storageClass: lp(), volumeExists: true, node: node('node-a') }).action).toBe('none');
  });

  it('waits for the scheduler to select a node for a WaitForFirstConsumer claim', () => {
    const c = claim('data', '1Gi', { storageClassName: 'local-path' });
    expect(decideProvisioning({ claim: c, storageClass: lp(), volumeExists: false, node: undefined }).action).toBe('none');
  });

  const failure = (input: Parameters<typeof decideProvisioning>[0]): string => {
    const d = decideProvisioning(input);
    if (d.action !== 'fail') throw new Error(`expected a failure, got ${d.action}`);
    expect(d.event).toMatchObject({ type: 'Warning', reason: 'ProvisioningFailed' });
    expect(d.event.message).toMatch(/^failed to provision volume with StorageClass "local-path": /);
    return d.event.message;
  };

  it('refuses an Immediate class: no node was specified', () => {
    const c = claim('data', '1Gi', { storageClassName: 'local-path' });
    expect(failure({ claim: c, storageClass: lp({ volumeBindingMode: 'Immediate' }), volumeExists: false, node: undefined }))
      .toMatch(/no node was specified.*WaitForFirstConsumer/);
  });

  it('refuses access modes a directory of one node cannot give, and selectors', () => {
    expect(failure({ claim: data({ accessModes: ['ReadWriteMany'] }), storageClass: lp(), volumeExists: false, node: node('node-a') }))
      .toMatch(/access mode ReadWriteMany is not supported/);
    expect(failure({ claim: data({ accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] }), storageClass: lp(), volumeExists: false, node: node('node-a') }))
      .toMatch(/access mode ReadOnlyMany/);
    expect(decideProvisioning({ claim: data({ accessModes: ['ReadWriteOncePod'] }), storageClass: lp(), volumeExists: false, node: node('node-a') }).action).toBe('provision');
    expect(failure({ claim: data({ selector: { matchLabels: { a: 'b' } } }), storageClass: lp(), volumeExists: false, node: node('node-a') }))
      .toMatch(/claim Selector is not supported/);
  });

  it('refuses a selected node that does not exist and bad class parameters, naming them', () => {
    expect(failure({ claim: data(), storageClass: lp(), volumeExists: false, node: undefined })).toMatch(/node "node-a" not found/);
    expect(failure({ claim: data(), storageClass: lp({ parameters: { nodePath: 'relative' } }), volumeExists: false, node: node('node-a') }))
      .toMatch(/parameter nodePath must be an absolute directory/);
    expect(failure({ claim: data(), storageClass: lp({ parameters: { nodePath: '/' } }), volumeExists: false, node: node('node-a') }))
      .toMatch(/other than \//);
    expect(failure({ claim: data(), storageClass: lp({ parameters: { nodePath: '/a/../etc' } }), volumeExists: false, node: node('node-a') }))
      .toMatch(/without '\.\.'/);
    expect(failure({ claim: data(), storageClass: lp({ parameters: { pathPattern: 'x' } }), volumeExists: false, node: node('node-a') }))
      .toMatch(/unsupported parameter "pathPattern": the mk.io\/local-path provisioner takes only nodePath/);
  });

  it('names the volume after the claim uid', () => {
    expect(provisionedVolumeName(claim('x', '1Gi'))).toBe('pvc-uid-x');
  });
});
