/**
 * The objects this api wrote or read last, by key, with their revisions: a guess at what the store
 * holds, so a write can go straight to the store's compare-and-set (create when the key is not
 * known, update at the known revision) without reading first. A guess only: another writer may
 * have changed the key since, and then the compare-and-set fails and the write reads and decides
 * again. Nothing is ever answered from it without a write that the store accepted.
 */
import type { Stored } from '../../bus';
import type { KubeObject } from '../../messages';

/** How many objects are kept (oldest used first out): a few MiB of small objects. */
export const RECENT_OBJECTS = 4096;

/** A bounded map of key -> last object seen, least recently used dropped first. */
export class RecentObjects {
  private readonly map = new Map<string, Stored<KubeObject>>();

  constructor(readonly max = RECENT_OBJECTS) {}

  /** A copy of the object last seen at `key` (the caller may change it), or undefined. */
  get(key: string): Stored<KubeObject> | undefined {
    const s = this.map.get(key);
    if (!s) return undefined;
    this.map.delete(key);
    this.map.set(key, s);
    return { key, object: structuredClone(s.object), revision: s.revision };
  }

  /** Notes what the store holds at `key` (the object is kept as it is: do not change it after). */
  remember(key: string, object: KubeObject, revision: number): void {
    this.map.delete(key);
    this.map.set(key, { key, object, revision });
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  /** Forgets `key` (deleted, or its guess proved wrong). */
  forget(key: string): void { this.map.delete(key); }

  get size(): number { return this.map.size; }
}
