/**
 * An informer's view of one key prefix with the controller's own writes applied at once: an
 * object it wrote counts from the write on (a change older than the write is stale and dropped),
 * an object it deleted stops counting until something newer comes. Reconciles in quick
 * succession then never write the same change twice, and after a restart the listing is the truth.
 */
import { startInformer, type Informer, type InformerEvent, type ObjectStore, type Stored } from '../../bus';

interface Entry<T> { object: T; revision: number; ours: boolean }

/** The objects under one prefix as the controller knows them (see above). */
export class ObjectCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** The keys of each namespace token (the second of a key's tokens). */
  private readonly byNamespace = new Map<string, Set<string>>();
  /** Keys the controller deleted -> the revision they were deleted at. */
  private readonly gone = new Map<string, number>();
  private informer: Informer | undefined;

  /**
   * `changed(key, before, after)` hears every change that is not the echo of the controller's
   * own write (before or after may be undefined: created, deleted).
   */
  constructor(
    private readonly store: ObjectStore,
    private readonly filter: string,
    private readonly changed: (key: string, before: T | undefined, after: T | undefined) => void,
  ) {}

  /** Lists and follows the prefix; resolves once the listing is in. Stops any earlier informer. */
  async start(): Promise<void> {
    await this.stop();
    this.entries.clear();
    this.byNamespace.clear();
    this.gone.clear();
    this.informer = await startInformer<T>(this.store, this.filter, (ev) => this.onEvent(ev));
  }

  async stop(): Promise<void> {
    const i = this.informer;
    this.informer = undefined;
    await i?.stop();
  }

  get(key: string): Stored<T> | undefined {
    const e = this.entries.get(key);
    return e ? { key, object: e.object, revision: e.revision } : undefined;
  }

  /** Every object held, with its key and revision. */
  *all(): IterableIterator<Stored<T>> {
    for (const [key, e] of this.entries) yield { key, object: e.object, revision: e.revision };
  }

  /** The objects of one namespace (by its key token, as objectKey encodes it). */
  inNamespace(token: string): Stored<T>[] {
    const out: Stored<T>[] = [];
    for (const key of this.byNamespace.get(token) ?? []) out.push(this.get(key)!);
    return out;
  }

  private put(key: string, e: Entry<T>): void {
    this.entries.set(key, e);
    const ns = key.split('.')[1];
    let set = this.byNamespace.get(ns);
    if (!set) this.byNamespace.set(ns, (set = new Set()));
    set.add(key);
  }

  private remove(key: string): void {
    this.entries.delete(key);
    const ns = key.split('.')[1];
    const set = this.byNamespace.get(ns);
    set?.delete(key);
    if (set?.size === 0) this.byNamespace.delete(ns);
  }

  /** Records an object the controller wrote at `revision`. */
  wrote(key: string, object: T, revision: number): void {
    this.gone.delete(key);
    this.put(key, { object, revision, ours: true });
  }

  /** Records an object the controller deleted (it was at `revision`). */
  deleted(key: string, revision: number): void {
    this.remove(key);
    this.gone.set(key, revision);
  }

  private onEvent(ev: InformerEvent<T>): void {
    const before = this.entries.get(ev.key);
    if (ev.type === 'DELETE' || !ev.object) {
      this.gone.delete(ev.key);
      if (before?.ours && ev.revision < before.revision) return;
      this.remove(ev.key);
      if (before) this.changed(ev.key, before.object, undefined);
      return;
    }
    if (before?.ours && ev.revision <= before.revision) {
      // Its own write's echo (or older): nothing new, but the entry is the store's from now on.
      if (ev.revision === before.revision) before.ours = false;
      return;
    }
    const tomb = this.gone.get(ev.key);
    if (tomb !== undefined) {
      if (ev.revision <= tomb) return;
      this.gone.delete(ev.key);
    }
    this.put(ev.key, { object: ev.object, revision: ev.revision, ours: false });
    this.changed(ev.key, before?.object, ev.object);
  }
}
