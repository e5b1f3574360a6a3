/**
 * ConfigMaps and Secrets through the api against a real nats-server: a Secret's stringData is
 * encoded into data and never stored, immutable objects refuse changes to their data, the size
 * limit and bad keys are refused with errors naming them, and a node reads only the ConfigMaps
 * and Secrets of the pods bound to it.
 */
import { connectBus, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import {
  API, isForbidden, isValidation, nodeApiSubject,
  type ApplyResult, type GetResult, type PodObjectResult, type Secret, type ConfigMap,
} from '../../../messages';
import { caught, startNatsServer } from '../../helpers/nats-server';

jest.setTimeout(30_000);

const cm = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' }, ...extra });
const secret = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, ...extra });

describe('ConfigMap and Secret kinds', () => {
  let server: Awaited<ReturnType<typeof startNatsServer>>;
  let cp: ControlPlane;
  let bus: Bus;
  const apply = (object: unknown) => request<ApplyResult>(bus, API.apply, { object });
  const get = async <T>(kind: string, name: string) => (await request<GetResult>(bus, API.get, { kind, name })).object as unknown as T;

  beforeAll(async () => {
    // As `mk up` runs it: a message may carry a whole 1 MiB object.
    server = await startNatsServer({ maxPayload: 8 * 1024 * 1024 });
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-test' } });
    bus = await connectBus({ servers: server.url, name: 'client' });
  });
  afterAll(async () => {
    await cp?.stop();
    await bus?.close();
    await server?.stop();
  });

  it('stores a ConfigMap and updates it while it is mutable', async () => {
    expect((await apply(cm('plain'))).result).toBe('created');
    expect((await apply(cm('plain', { data: { a: '2' } }))).result).toBe('configured');
    expect((await get<ConfigMap>('cm', 'plain')).data).toEqual({ a: '2' });
  });

  it('refuses to change the data of an immutable ConfigMap or to unset immutable', async () => {
    await apply(cm('frozen', { immutable: true }));
    const changed = await caught(apply(cm('frozen', { immutable: true, data: { a: '2' } })));
    expect(isValidation(changed)).toBe(true);
    expect(String(changed)).toMatch(/data: field is immutable/);
    expect(String(await caught(apply(cm('frozen', { immutable: false }))))).toMatch(/cannot be unset/);
    // Labels may still change.
    expect((await apply(cm('frozen', { immutable: true, metadata: { name: 'frozen', labels: { x: 'y' } } }))).result).toBe('configured');
    expect((await get<ConfigMap>('configmaps', 'frozen')).data).toEqual({ a: '1' });
  });

  it('encodes stringData into data and never stores it; type defaults to Opaque', async () => {
    await apply(secret('creds', { data: { user: Buffer.from('old').toString('base64') }, stringData: { user: 'admin', pass: 'pw' } }));
    const s = await get<Secret>('secrets', 'creds');
    expect(s.stringData).toBeUndefined();
    expect(s.type).toBe('Opaque');
    expect(Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))).toEqual({ user: 'admin', pass: 'pw' });
    expect(String(await caught(apply(secret('creds', { type: 'kubernetes.io/basic-auth', stringData: { username: 'u' } }))))).toMatch(/type: field is immutable/);
  });

  it('refuses an immutable Secret new data, even through stringData', async () => {
    await apply(secret('sealed', { stringData: { k: 'v' }, immutable: true }));
    expect(isValidation(await caught(apply(secret('sealed', { stringData: { k: 'w' }, immutable: true }))))).toBe(true);
    expect((await apply(secret('sealed', { stringData: { k: 'v' }, immutable: true }))).result).toBe('unchanged');
  });

  it('refuses bad keys, bad base64 and more than 1 MiB, naming the problem, and stores nothing', async () => {
    expect(String(await caught(apply(cm('badkey', { data: { 'a/b': 'x' } }))))).toMatch(/invalid key "a\/b"/);
    expect(String(await caught(apply(secret('bad64', { data: { k: 'not base64!' } }))))).toMatch(/data\.k: must be base64/);
    expect(String(await caught(apply(cm('huge', { data: { a: 'x'.repeat(1024 * 1024 + 1) } }))))).toMatch(/no more than 1048576 bytes/);
    for (const [kind, name] of [['configmaps', 'badkey'], ['secrets', 'bad64'], ['configmaps', 'huge']]) {
      expect(String(await caught(get(kind, name)))).toMatch(/not found/);
    }
  });

  it('lets a node read only the ConfigMaps and Secrets its own pods refer to', async () => {
    await apply(cm('app-config'));
    await apply(secret('app-secret', { stringData: { k: 'v' } }));
    await apply(cm('unrelated'));
    const { object: pod } = await apply({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'reader' },
      spec: {
        nodeName: 'n1',
        containers: [{
          name: 'c', image: 'busybox',
          env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'a' } } }],
          envFrom: [{ secretRef: { name: 'app-secret' } }, { configMapRef: { name: 'not-yet', optional: true } }],
        }],
      },
    });
    const ask = (node: string, kind: string, object: string) => request<PodObjectResult>(bus, nodeApiSubject(node, 'pod-object'), {
      namespace: 'default', name: 'reader', uid: pod.metadata.uid, kind, object,
    });
    expect((await ask('n1', 'configmaps', 'app-config')).object?.metadata.name).toBe('app-config');
    expect(((await ask('n1', 'secrets', 'app-secret')).object as unknown as Secret).data?.k).toBe(Buffer.from('v').toString('base64'));
    expect((await ask('n1', 'configmaps', 'not-yet')).object).toBeNull();
    expect(isForbidden(await caught(ask('n1', 'configmaps', 'unrelated')))).toBe(true);
    expect(isForbidden(await caught(ask('n1', 'secrets', 'app-config')))).toBe(true);
    expect(isForbidden(await caught(ask('n2', 'configmaps', 'app-config')))).toBe(true);
    expect(isValidation(await caught(ask('n1', 'pods', 'reader')))).toBe(true);
  });
});
