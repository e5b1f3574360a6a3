/**
 * What messages/ declares about a kind: how it is named and stored, its schema, how `mk get`
 * prints it and how `mk describe` describes it. The control plane's side of a kind (defaults,
 * admission, deletion, controller) is its folder in actors/.
 */
import type { z } from 'zod';
import type { KubeObject } from './meta';
import type { EventLike } from './printing/describe-writer';

/**
 * One column of `mk get`, like a CRD's additionalPrinterColumns: a header and a cell computed
 * from the object (`now` for ages). Priority 1 columns appear only with `-o wide`.
 */
export interface PrinterColumn {
  name: string;
  priority?: 0 | 1;
  value(obj: KubeObject, now: number): string;
}

/** Other objects a description shows (the pods on a node), read from the api before describing. */
export interface RelatedObjects {
  /** The kind to list, by plural. */
  plural: string;
  /** Which of the listed objects belong to `obj`. */
  where(related: KubeObject, obj: KubeObject): boolean;
}

/** What a describer gets besides the object. */
export interface DescribeContext {
  /** One list per entry of the describer's `related`, in the same order. */
  related: KubeObject[][];
  /** The object's events, oldest first; undefined when they could not be read. */
  events: EventLike[] | undefined;
  now: number;
}

/** How `mk describe` describes a kind (without one, the generic describer is used). */
export interface Describer {
  related?: readonly RelatedObjects[];
  /** The description: lines of tab-separated cells, aligned by the CLI. */
  describe(obj: KubeObject, ctx: DescribeContext): string;
}

/** A kind mk serves. */
export interface KindInfo {
  apiVersion: string;
  kind: string;
  /** Lower-case plural: the first token of its keys and the name `mk get` takes. */
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /**
   * The manifest schema. Kinds give it as a getter that loads their schema module on first use, so
   * that commands which only print objects never build zod schemas (test/unit/cli/startup.test.ts).
   */
  readonly schema: z.ZodType;
  /**
   * Where the objects live: `store`, the object bucket (changes published on
   * mk.watch.<plural>.<namespace>.<name>), or `stream`, the events stream (listed in the order
   * recorded; each new count published on mk.events.<namespace>.<kind>).
   */
  storage: 'store' | 'stream';
  /** A sentence for `mk explain` and `mk api-resources`. */
  description: string;
  /** The columns of `mk get`; NAME is one of them, where the kind wants it. */
  columns: readonly PrinterColumn[];
  describer?: Describer;
  /**
   * The fields `--field-selector` may select by besides metadata.name and metadata.namespace
   * (messages/field-selectors.ts), each with how to read it from an object.
   */
  fieldSelectors?: Readonly<Record<string, (obj: KubeObject) => string | undefined>>;
  /** Groups the kind belongs to, as in kubectl: `all` puts it in `mk get all`. */
  categories?: readonly string[];
  /**
   * Recorded by mk's components and never written through the API (events): apply refuses a
   * manifest of this kind, delete refuses its objects.
   */
  readOnly?: boolean;
  /** Why a read-only kind is (said when a delete is refused); default: events' expiry. */
  readOnlyReason?: string;
  /**
   * True when the kind's objects have `spec.replicas` (a scale subresource, in Kubernetes'
   * terms): `mk scale` changes it.
   */
  scalable?: boolean;
}

/**
 * The kind as kubectl names it in what it prints: the singular, then the API group when there is
 * one (`pod`, `deployment.apps`, `job.batch`, `lease.coordination.k8s.io`).
 */
export function groupedKind(kind: Pick<KindInfo, 'singular' | 'apiVersion'>): string {
  return kind.apiVersion.includes('/') ? `${kind.singular}.${kind.apiVersion.split('/')[0]}` : kind.singular;
}

/** `kind.group/name` as kubectl prints an object it acted on (`deployment.apps/web created`). */
export function resourceName(kind: Pick<KindInfo, 'singular' | 'apiVersion'>, name: string): string {
  return `${groupedKind(kind)}/${name}`;
}
