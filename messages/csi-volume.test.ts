/** The inline `csi` volume: mk's one driver, functions.mk.io, and what it refuses. */
import { validateManifest } from './manifest';
import { CSIVolumeSource, Volume } from './volumes';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const code = (csi: Record<string, unknown>) => Volume.safeParse({ name: 'code', csi });
const messages = (r: ReturnType<typeof code>): string[] => (r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));

describe('csi volume', () => {
  it("accepts a Function's code volume: driver, readOnly and the digest", () => {
    const r = code({ driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest: DIGEST } });
    expect(r.success).toBe(true);
    expect(r.success && r.data.csi).toEqual({ driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest: DIGEST } });
  });

  it('refuses a driver mk does not have, naming the one it has', () => {
    expect(messages(code({ driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { digest: DIGEST } })))
      .toEqual(['csi.driver: Unsupported value: "secrets-store.csi.k8s.io": supported values: "functions.mk.io"']);
    expect(messages(code({ driver: '', readOnly: true }))).toEqual(['csi.driver: Required value']);
    expect(messages(code({ readOnly: true, volumeAttributes: { digest: DIGEST } }))[0]).toMatch(/^csi\.driver: /);
  });

  it('refuses a writable code volume', () => {
    expect(messages(code({ driver: 'functions.mk.io', volumeAttributes: { digest: DIGEST } })))
      .toEqual(['csi.readOnly: Invalid value: false: the functions.mk.io driver serves read-only volumes only: set readOnly: true']);
    expect(messages(code({ driver: 'functions.mk.io', readOnly: false, volumeAttributes: { digest: DIGEST } }))).toHaveLength(1);
  });

  it('needs a well-formed digest and no other attribute', () => {
    expect(messages(code({ driver: 'functions.mk.io', readOnly: true })))
      .toEqual(["csi.volumeAttributes.digest: Required value: the functions.mk.io driver needs the code's digest"]);
    expect(messages(code({ driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest: 'sha256:ABC' } })))
      .toEqual(['csi.volumeAttributes.digest: Invalid value: "sha256:ABC": must be sha256: and 64 lower-case hex digits']);
    expect(messages(code({ driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest: DIGEST, size: '1' } })))
      .toEqual(['csi.volumeAttributes.size: Unsupported value: "size": supported values: "digest"']);
    expect(messages(code({ driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest: 7 } }))).toHaveLength(1);
  });

  it('refuses fsType, nodePublishSecretRef and unknown fields', () => {
    const base = { driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest: DIGEST } };
    expect(messages(code({ ...base, fsType: 'ext4' }))).toEqual([expect.stringMatching(/^csi\.fsType: Forbidden: fsType is not supported/)]);
    expect(messages(code({ ...base, nodePublishSecretRef: { name: 's' } })))
      .toEqual([expect.stringMatching(/^csi\.nodePublishSecretRef: Forbidden: nodePublishSecretRef is not supported/)]);
    expect(CSIVolumeSource.safeParse({ ...base, driverName: 'x' }).success).toBe(false);
  });

  it('is one volume type: not together with another', () => {
    const r = Volume.safeParse({ name: 'code', emptyDir: {}, csi: { driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest: DIGEST } } });
    expect(messages(r)).toEqual(['csi: Forbidden: may not specify more than 1 volume type']);
  });

  it('refuses another driver when a pod is applied, naming the field and the supported driver', () => {
    const pod = (driver: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'add-abcde' },
      spec: {
        containers: [{ name: 'function', image: 'registry.mk.local/mk-runtime-python3:latest', volumeMounts: [{ name: 'code', mountPath: '/code', readOnly: true }] }],
        volumes: [{ name: 'code', csi: { driver, readOnly: true, volumeAttributes: { digest: DIGEST } } }],
      },
    });
    expect(() => validateManifest(pod('functions.mk.io'))).not.toThrow();
    expect(() => validateManifest(pod('ebs.csi.aws.com')))
      .toThrow(/spec\.volumes\[0\]\.csi\.driver: Unsupported value: "ebs\.csi\.aws\.com": supported values: "functions\.mk\.io"/);
  });
});
