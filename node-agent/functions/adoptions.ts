/**
 * Adoptions of warm pool members by pods, and the view of the runtime that makes them the pods'
 * own. A member of the node's warm pool (pool.ts) is a sandbox and a generic loader container made
 * for no pod; when a function instance pod takes one, an adoption record ties the member's sandbox
 * and container to the pod. Records are files (`<dir>/<sandbox id>.json`, written to a temporary
 * name and renamed), so an agent killed at any point finds them again.
 *
 * The pod lifecycle finds a pod's objects by the pod-uid label (pods/observe.ts), which a member
 * lacks: `adoptionOverlay` wraps the CRI client so that adopted objects are listed and described
 * with the labels, annotations and metadata the pod's own would carry, and members not adopted are
 * not seen at all. Observation, probes, logs, exec, stop and removal then work unchanged; removing
 * an adopted sandbox forgets its record and removes the member's code directory.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CriClient } from '../cri/client';
import type * as cri from '../cri/types';
import {
  ANNOTATION_CONTAINER_HASH, ANNOTATION_CONTAINER_IMAGE, ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID,
} from '../pods/cri-spec';

/** Label on a pool member's sandbox and container: the runtime it is a warm container of. */
export const LABEL_FUNCTION_POOL = 'mk.io/function-pool';
/** Label on a pool member's sandbox and container: the member's name (`mk-pool-<runtime>-<random>`). */
export const LABEL_POOL_MEMBER = 'mk.io/pool-member';
/** The CRI namespace of pool members' sandboxes (no pod of the cluster lives there). */
export const POOL_NAMESPACE = 'mk-function-pool';

/** One member taken by one pod. */
export interface AdoptionRecord {
  sandboxId: string;
  containerId: string;
  /** The member's name: its code directory is named by it. */
  member: string;
  runtime: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  /** The pod spec's container name. */
  containerName: string;
  /** The image as the pod spec names it. */
  image: string;
  /** The container spec's hash (cri-spec.ts containerSpecHash). */
  specHash: string;
  /** Epoch ms of the adoption. */
  adoptedAt: number;
  /** The loader was told its code (/init answered); false between the record and /init. */
  initDone: boolean;
  /** The member sandbox's log directory, removed with it. */
  logDir?: string;
}

const isRecord = (v: unknown): v is AdoptionRecord => {
  const r = v as Partial<AdoptionRecord> | null;
  return !!r && typeof r === 'object' && typeof r.sandboxId === 'string' && typeof r.containerId === 'string' && typeof r.podUid === 'string'
    && typeof r.podName === 'string' && typeof r.podNamespace === 'string' && typeof r.containerName === 'string'
    && typeof r.member === 'string' && typeof r.image === 'string';
};
const SAFE_ID = /^[A-Za-z0-9_.-]+$/;

/** The node's adoption records: in memory, and one file each under `dir`. */
export class AdoptionStore {
  private readonly bySandbox = new Map<string, AdoptionRecord>();
  private readonly byContainer = new Map<string, AdoptionRecord>();

  constructor(private readonly dir: string, private readonly log?: Logger) {}

  /** Reads every record from disk (the agent's start). Unreadable files are logged and removed. */
  async load(): Promise<AdoptionRecord[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    for (const name of await readdir(this.dir)) {
      const file = path.join(this.dir, name);
      if (!name.endsWith('.json')) { await rm(file, { force: true }); continue; }
      try {
        const r: unknown = JSON.parse(await readFile(file, 'utf8'));
        if (!isRecord(r)) throw new Error('not an adoption record');
        this.index(r);
      } catch (err) {
        this.log?.warn({ file, err: String(err) }, 'removing an unreadable adoption record');
        await rm(file, { force: true });
      }
    }
    return this.all();
  }

  /** Every record. */
  all(): AdoptionRecord[] { return [...this.bySandbox.values()]; }
  /** The record of an adopted sandbox. */
  ofSandbox(id: string): AdoptionRecord | undefined { return this.bySandbox.get(id); }
  /** The record of an adopted container. */
  ofContainer(id: string): AdoptionRecord | undefined { return this.byContainer.get(id); }
  /** Whether any record names this pod uid. */
  hasPod(uid: string): boolean { return this.all().some((r) => r.podUid === uid); }

  /** Writes (or rewrites) a record durably, then indexes it. Throws on I/O errors. */
  async put(r: AdoptionRecord): Promise<void> {
    if (!SAFE_ID.test(r.sandboxId)) throw new Error(`sandbox id ${r.sandboxId} cannot name a file`);
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    const file = path.join(this.dir, `${r.sandboxId}.json`);
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify(r), { mode: 0o640 });
    await rename(tmp, file);
    this.index(r);
  }

  /** Forgets a sandbox's record (file first). */
  async remove(sandboxId: string): Promise<AdoptionRecord | undefined> {
    const r = this.bySandbox.get(sandboxId);
    if (!r) return undefined;
    await rm(path.join(this.dir, `${sandboxId}.json`), { force: true });
    this.bySandbox.delete(sandboxId);
    this.byContainer.delete(r.containerId);
    return r;
  }

  private index(r: AdoptionRecord): void {
    this.bySandbox.set(r.sandboxId, r);
    this.byContainer.set(r.containerId, r);
  }
}

/** The labels an adopted sandbox shows: the pod's, as cri-spec.ts podLabels gives them. */
export function adoptedSandboxLabels(r: AdoptionRecord): Record<string, string> {
  return { [LABEL_POD_UID]: r.podUid, [LABEL_POD_NAME]: r.podName, [LABEL_POD_NAMESPACE]: r.podNamespace };
}

/** The labels an adopted container shows (buildContainerConfig's). */
export function adoptedContainerLabels(r: AdoptionRecord): Record<string, string> {
  return { ...adoptedSandboxLabels(r), [LABEL_CONTAINER_NAME]: r.containerName };
}

/** The annotations an adopted container shows: the spec hash, the image, restart count 0. */
export function adoptedContainerAnnotations(r: AdoptionRecord, own: Record<string, string> = {}): Record<string, string> {
  return {
    ...own, [ANNOTATION_CONTAINER_HASH]: r.specHash, [ANNOTATION_CONTAINER_IMAGE]: r.image, [ANNOTATION_RESTART_COUNT]: '0',
  };
}

const isMember = (labels: Record<string, string> | null | undefined): boolean => !!labels?.[LABEL_FUNCTION_POOL];
const matches = (labels: Record<string, string>, selector: Record<string, string> | undefined): boolean =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

function asSandbox<T extends { labels: Record<string, string>; metadata: Required<cri.PodSandboxMetadata> | null }>(s: T, r: AdoptionRecord): T {
  return {
    ...s,
    labels: adoptedSandboxLabels(r),
    metadata: { name: r.podName, uid: r.podUid, namespace: r.podNamespace, attempt: 0 },
  };
}

function asContainer<T extends { labels: Record<string, string>; annotations: Record<string, string>; metadata: Required<cri.ContainerMetadata> | null }>(
  c: T, r: AdoptionRecord,
): T {
  return {
    ...c,
    labels: adoptedContainerLabels(r),
    annotations: adoptedContainerAnnotations(r, c.annotations),
    metadata: { name: r.containerName, attempt: 0 },
  };
}

/** What the overlay does once an adopted sandbox is removed (the member's code directory goes). */
export type OnAdoptedSandboxRemoved = (r: AdoptionRecord) => Promise<void>;

/**
 * The CRI client as the pod lifecycle should see it: adopted sandboxes and containers carry their
 * pods' labels, annotations and metadata; members not adopted are left out of every list; a
 * removed adopted sandbox loses its record (then `onRemoved` runs). Every other call passes through.
 * A label selector that names a pod uid with no adoption goes to the runtime as it is.
 */
export function adoptionOverlay<C extends Pick<CriClient, 'listPodSandbox' | 'listContainers' | 'podSandboxStatus' | 'containerStatus' | 'removePodSandbox'>>(
  runtime: C, store: AdoptionStore, onRemoved?: OnAdoptedSandboxRemoved,
): C {
  const involvesAdoption = (selector: Record<string, string> | undefined): boolean => {
    const uid = selector?.[LABEL_POD_UID];
    return uid === undefined || store.hasPod(uid);
  };
  const overrides: Partial<Pick<CriClient, 'listPodSandbox' | 'listContainers' | 'podSandboxStatus' | 'containerStatus' | 'removePodSandbox'>> = {
    async listPodSandbox(req = {}, o) {
      const selector = req.filter?.labelSelector;
      if (!involvesAdoption(selector)) return runtime.listPodSandbox(req, o);
      const { labelSelector: _dropped, ...filter } = req.filter ?? {};
      const res = await runtime.listPodSandbox({ filter }, o);
      const items = (res.items ?? []).flatMap((s) => {
        const r = store.ofSandbox(s.id);
        const seen = r ? asSandbox(s, r) : s;
        if (!r && isMember(s.labels)) return [];
        return matches(seen.labels ?? {}, selector) ? [seen] : [];
      });
      return { ...res, items };
    },
    async listContainers(req = {}, o) {
      const selector = req.filter?.labelSelector;
      if (!involvesAdoption(selector)) return runtime.listContainers(req, o);
      const { labelSelector: _dropped, ...filter } = req.filter ?? {};
      const res = await runtime.listContainers({ filter }, o);
      const containers = (res.containers ?? []).flatMap((c) => {
        const r = store.ofContainer(c.id);
        const seen = r ? asContainer(c, r) : c;
        if (!r && isMember(c.labels)) return [];
        return matches(seen.labels ?? {}, selector) ? [seen] : [];
      });
      return { ...res, containers };
    },
    async podSandboxStatus(req, o) {
      const res = await runtime.podSandboxStatus(req, o);
      const r = store.ofSandbox(req.podSandboxId);
      return r && res.status ? { ...res, status: asSandbox(res.status, r) } : res;
    },
    async containerStatus(req, o) {
      const res = await runtime.containerStatus(req, o);
      const r = store.ofContainer(req.containerId);
      return r && res.status ? { ...res, status: asContainer(res.status, r) } : res;
    },
    async removePodSandbox(req, o) {
      const res = await runtime.removePodSandbox(req, o);
      const r = await store.remove(req.podSandboxId);
      if (r) await onRemoved?.(r);
      return res;
    },
  };
  return new Proxy(runtime, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof typeof overrides];
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
