/**
 * Which namespaces are active, from an informer on them, so a write into a namespace need not read
 * it first (as Kubernetes' namespace lifecycle admission answers from its informer). Only "active"
 * is taken from it: a namespace it does not know, or knows as gone or being deleted, is read from
 * the store by the caller, whose answer decides. A namespace this api marks for deletion is
 * forgotten before the write and not trusted again until the informer delivers the mark, so inside
 * this process no creation that follows the deletion can take it for active. (Another process's
 * mark reaches it after a watch delivery; a read before the create had the same kind of window.)
 */
import { startInformer, type Informer, type InformerEvent, type ObjectStore } from '../../bus';
import { keyFilter, NamespaceKind, parseKey, type KubeObject } from '../../messages';

/** The namespaces known active, and those this api is deleting. */
export class NamespaceCache {
  /** Active namespaces, by name, with the revision seen. */
  private readonly active = new Map<string, number>();
  /** Names whose informer events are ignored below this revision (Infinity: until told). */
  private readonly fenced = new Map<string, number>();
  private informer: Informer | undefined;
  private stopped = false;

  /** Starts the informer. Throws what its first listing throws (the caller then reads every time). */
  async start(store: ObjectStore): Promise<void> {
    const informer = await startInformer<KubeObject>(store, keyFilter(NamespaceKind.plural), (ev) => this.observe(ev));
    if (this.stopped) await informer.stop(); else this.informer = informer;
  }

  /** Stops the informer; everything is read from the store after. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.active.clear();
    await this.informer?.stop();
  }

  /** One change of a namespace, as the informer delivers it. */
  observe(ev: InformerEvent<KubeObject>): void {
    if (this.stopped) return;
    const { name } = parseKey(ev.key);
    const fence = this.fenced.get(name);
    if (fence !== undefined) {
      if (ev.revision < fence) return;
      this.fenced.delete(name);
    }
    if (ev.type === 'PUT' && ev.object && !ev.object.metadata.deletionTimestamp) this.active.set(name, ev.revision);
    else this.active.delete(name);
  }

  /** True only when the namespace is known to exist and not to be being deleted. */
  isActive(name: string): boolean {
    return this.active.has(name);
  }

  /**
   * Forgets `name` before this api deletes it: until `trustFrom(name, revision)` says which
   * revision the deletion wrote, nothing from the informer makes it active again.
   */
  forget(name: string): void {
    this.active.delete(name);
    this.fenced.set(name, Infinity);
  }

  /** The deletion of `name` was written at `revision`: events from it on are trusted again. */
  trustFrom(name: string, revision: number): void {
    if (this.fenced.get(name) === Infinity) this.fenced.set(name, revision);
  }
}
