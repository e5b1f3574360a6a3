import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAll } from 'js-yaml';
import { validateManifest } from './manifest';
import { defaultStatefulSet, type StatefulSet } from './statefulset';

const sts = (spec: Record<string, unknown>, name = 'web') => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name }, spec });
const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } };
const selector = { matchLabels: { app: 'web' } };
const claim = { metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };

describe('StatefulSet manifests', () => {
  it("accepts Kubernetes' StatefulSet example as written", () => {
    const doc = sts({
      serviceName: 'nginx', replicas: 3, minReadySeconds: 10, selector, template, podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, revisionHistoryLimit: 5, ordinals: { start: 1 },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      volumeClaimTemplates: [{ ...claim, spec: { ...claim.spec, storageClassName: 'my-storage-class', volumeMode: 'Filesystem' } }],
    });
    expect(validateManifest(doc).object).toEqual(doc);
    expect(validateManifest(sts({ selector, template, updateStrategy: { type: 'OnDelete' } })).object).toBeDefined();
  });

  it('accepts examples/statefulset.yaml, its headless Service included', () => {
    const docs = loadAll(fs.readFileSync(path.join(__dirname, '..', 'examples', 'statefulset.yaml'), 'utf8')) as unknown[];
    expect(docs.map((d) => (d as { kind: string }).kind)).toEqual(['Service', 'StatefulSet']);
    for (const doc of docs) expect(validateManifest(doc).object).toEqual(doc);
  });

  it('refuses a missing or mismatched selector, unknown fields and bad enums, naming the field', () => {
    expect(() => validateManifest(sts({ template }))).toThrow(/spec\.selector: Required value/);
    expect(() => validateManifest(sts({ selector: { matchLabels: { app: 'x' } }, template }))).toThrow(/`selector` does not match template `labels`/);
    expect(() => validateManifest(sts({ selector, template, strategy: {} }))).toThrow(/unknown field "spec\.strategy"/);
    expect(() => validateManifest(sts({ selector, template, podManagementPolicy: 'Random' }))).toThrow(/spec\.podManagementPolicy/);
    expect(() => validateManifest(sts({ selector, template, replicas: -1 }))).toThrow(/spec\.replicas/);
    expect(() => validateManifest(sts({ selector, template, updateStrategy: { rollingUpdate: { partition: -1 } } }))).toThrow(/partition/);
    expect(() => validateManifest(sts({ selector, template, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep' } })))
      .toThrow(/whenDeleted/);
    expect(() => validateManifest(sts({ selector, template, serviceName: 'Not_A_Label' }))).toThrow(/spec\.serviceName/);
  });

  it('refuses rollingUpdate with OnDelete, and maxUnavailable other than 1 as a beta feature', () => {
    expect(() => validateManifest(sts({ selector, template, updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } })))
      .toThrow(/spec\.updateStrategy\.rollingUpdate: Forbidden/);
    expect(() => validateManifest(sts({ selector, template, updateStrategy: { rollingUpdate: { maxUnavailable: 2 } } })))
      .toThrow(/maxUnavailable: Forbidden: 2: maxUnavailable is a beta feature \(MaxUnavailableStatefulSet\)/);
    expect(validateManifest(sts({ selector, template, updateStrategy: { rollingUpdate: { maxUnavailable: 1 } } })).object).toBeDefined();
  });

  it('checks the claim templates: a name, access modes, a storage request, no duplicates', () => {
    expect(() => validateManifest(sts({ selector, template, volumeClaimTemplates: [{ ...claim, metadata: {} }] }))).toThrow(/volumeClaimTemplates\[0\]\.metadata\.name/);
    expect(() => validateManifest(sts({ selector, template, volumeClaimTemplates: [{ ...claim, spec: { ...claim.spec, accessModes: [] } }] })))
      .toThrow(/accessModes.*at least 1 access mode is required/);
    expect(() => validateManifest(sts({ selector, template, volumeClaimTemplates: [{ ...claim, spec: { ...claim.spec, resources: { requests: { storage: 'lots' } } } }] })))
      .toThrow(/invalid quantity "lots"/);
    expect(() => validateManifest(sts({ selector, template, volumeClaimTemplates: [claim, claim] }))).toThrow(/volumeClaimTemplates\.1\.metadata\.name: Duplicate value: "www"/);
  });

  it("lets the template's containers mount the claim templates' volumes, and nothing else it lacks", () => {
    const mounting = (mount: string) => ({ ...template, spec: { containers: [{ name: 'nginx', image: 'nginx', volumeMounts: [{ name: mount, mountPath: '/data' }] }] } });
    const doc = sts({ selector, template: mounting('www'), volumeClaimTemplates: [claim] });
    expect(validateManifest(doc).object).toEqual(doc);
    expect(() => validateManifest(sts({ selector, template: mounting('logs'), volumeClaimTemplates: [claim] })))
      .toThrow(/template\.spec\.containers\.0\.volumeMounts\.0\.name: Not found: "logs"/);
    expect(() => validateManifest(sts({ selector, template: { ...template, spec: { containers: [template.spec.containers[0], template.spec.containers[0]] } } })))
      .toThrow(/duplicate container name "nginx"/);
  });

  it('refuses a name whose last pod name would not be a DNS label', () => {
    expect(() => validateManifest(sts({ selector, template, replicas: 10 }, 'a'.repeat(62)))).toThrow(/metadata\.name: Invalid value: .*the pod name "a{62}-9" would be invalid/);
    expect(validateManifest(sts({ selector, template, replicas: 10 }, 'a'.repeat(61))).object).toBeDefined();
  });

  it('defaults one replica, OrderedReady, RollingUpdate with partition 0, claims retained and the pod defaults', () => {
    const out = defaultStatefulSet(validateManifest(sts({ selector, template })).object as unknown as StatefulSet);
    expect(out.spec).toMatchObject({
      replicas: 1, podManagementPolicy: 'OrderedReady', revisionHistoryLimit: 10, minReadySeconds: 0,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(out.spec.template.spec.restartPolicy).toBe('Always');
    const onDelete = defaultStatefulSet(validateManifest(sts({ selector, template, updateStrategy: { type: 'OnDelete' } })).object as unknown as StatefulSet);
    expect(onDelete.spec.updateStrategy).toEqual({ type: 'OnDelete' });
  });
});
