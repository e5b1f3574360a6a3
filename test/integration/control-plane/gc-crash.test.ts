/**
 * The garbage collector across a crash: a control plane (the built `mk control-plane`, a process
 * of its own) is SIGKILLed right after an owner's deletion, while its dependents are being
 * collected; the next control plane finishes the cascade, in the background and in the
 * foreground, and leaves no dependent behind.
 */
import { ObjectStore } from '../../../bus';
import { API, type ApplyResult, type KubeObject, type ListResult } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { waitFor } from '../../helpers/nats-server';

jest.setTimeout(120_000);

const DEPENDENTS = 150;
let h: CrashingControlPlane;
/** Dependents left when each control plane was killed (how far into the cascade it got). */
const left: number[] = [];

const api = <T>(verb: keyof typeof API, body: unknown) => h.api<T>(verb, body);
const pod = (name: string, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});
const names = async (): Promise<string[]> => (await api<ListResult>('list', { kind: 'pods' })).items.map((o) => o.metadata.name);

beforeAll(async () => {
  h = await crashingControlPlane('gc-crash-test');
}, 300_000);

afterAll(async () => {
  process.stdout.write(`dependents left at the kill: ${left.join(', ')} of ${DEPENDENTS}\n`);
  await h?.close();
});

it.each([['Background'], ['Foreground']])('%s: a control plane killed mid-cascade leaves no dependent behind once restarted', async (policy) => {
  await h.start();
  const prefix = policy.toLowerCase().slice(0, 2);
  const owner: KubeObject = (await api<ApplyResult>('apply', { object: pod(`${prefix}-owner`) })).object;
  const ref = { apiVersion: 'v1', kind: 'Pod', name: owner.metadata.name, uid: owner.metadata.uid, blockOwnerDeletion: true };
  await Promise.all(Array.from({ length: DEPENDENTS }, (_, i) => api('apply', { object: pod(`${prefix}-d${i}`, { ownerReferences: [ref] }) })));
  expect((await names()).filter((n) => n.startsWith(`${prefix}-d`))).toHaveLength(DEPENDENTS);
  const store = await ObjectStore.open(h.bus, { create: false });
  const dependents = async () => (await store.list<KubeObject>('pods.>')).items.filter((i) => i.object.metadata.name.startsWith(`${prefix}-d`)).length;
  await api('delete', { kind: 'pods', name: owner.metadata.name, propagationPolicy: policy });
  // Killed once the collector has begun: the first dependent gone.
  await waitFor(async () => (await dependents()) < DEPENDENTS, 'the cascade begun', 30_000);
  await h.kill();
  left.push(await dependents());
  await h.start();
  await waitFor(async () => !(await names()).some((n) => n.startsWith(`${prefix}-`)), 'owner and dependents gone', 30_000);
  await h.kill();
});
