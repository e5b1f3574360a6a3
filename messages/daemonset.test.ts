import { defaultDaemonSet, type DaemonSet } from './daemonset';
import { validateManifest } from './manifest';

const ds = (spec: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec });
const template = { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
const selector = { matchLabels: { app: 'agent' } };

describe('DaemonSet manifests', () => {
  it('accepts a Kubernetes DaemonSet as written', () => {
    const doc = ds({
      selector, template, minReadySeconds: 5, revisionHistoryLimit: 3,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } },
    });
    expect(validateManifest(doc).object).toEqual(doc);
    expect(validateManifest(ds({ selector, template, updateStrategy: { type: 'OnDelete' } })).object).toBeDefined();
  });

  it('refuses a missing selector, one the template does not match, and unknown fields', () => {
    expect(() => validateManifest(ds({ template }))).toThrow(/spec\.selector: Required value/);
    expect(() => validateManifest(ds({ selector: { matchLabels: { app: 'x' } }, template })))
      .toThrow(/spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/);
    expect(() => validateManifest(ds({ selector, template, replicas: 3 }))).toThrow(/unknown field "spec\.replicas"/);
    expect(() => validateManifest(ds({ selector, template, updateStrategy: { type: 'Recreate' } }))).toThrow(/spec\.updateStrategy\.type/);
  });

  it('refuses rolling limits that cannot work', () => {
    expect(() => validateManifest(ds({ selector, template, updateStrategy: { type: 'OnDelete', rollingUpdate: { maxUnavailable: 1 } } })))
      .toThrow(/spec\.updateStrategy\.rollingUpdate: Forbidden/);
    expect(() => validateManifest(ds({ selector, template, updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } })))
      .toThrow(/maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0/);
    expect(() => validateManifest(ds({ selector, template, updateStrategy: { rollingUpdate: { maxUnavailable: '150%' } } })))
      .toThrow(/must not be greater than 100%/);
    expect(() => validateManifest(ds({ selector, template, updateStrategy: { rollingUpdate: { maxSurge: '101%' } } })))
      .toThrow(/maxSurge: Invalid value: "101%": must not be greater than 100%/);
    expect(validateManifest(ds({ selector, template, updateStrategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } })).object).toBeDefined();
    expect(() => validateManifest(ds({ selector, template, updateStrategy: { rollingUpdate: { maxUnavailable: 'half' } } })))
      .toThrow(/maxUnavailable/);
  });

  it('defaults RollingUpdate with maxUnavailable 1 and maxSurge 0, 10 revisions, and the pod defaults', () => {
    const out = defaultDaemonSet(ds({ selector, template }) as unknown as DaemonSet);
    expect(out.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(out.spec.revisionHistoryLimit).toBe(10);
    expect(out.spec.minReadySeconds).toBe(0);
    expect(out.spec.template.spec.restartPolicy).toBe('Always');
    expect(defaultDaemonSet(ds({ selector, template, updateStrategy: { type: 'OnDelete' } }) as unknown as DaemonSet).spec.updateStrategy)
      .toEqual({ type: 'OnDelete' });
  });
});
