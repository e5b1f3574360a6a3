/**
 * `mk describe`'s text for any kind: the kind's own describer (messages/kinds/) or the generic
 * one, fed with the related objects and events it asks for, and aligned like kubectl's describe.
 */
import type { EventLike, KindInfo, KubeObject } from '../../messages';
import { describeGeneric } from '../../messages/printing/describe-generic';
import { DESCRIBE_TABWRITER, tabwrite } from './tabwriter';

/** The data a description needs from the api. */
export interface DescribeSources {
  /** Lists every object of a kind (all namespaces). */
  list(plural: string): Promise<KubeObject[]>;
  /** The object's events, oldest first; undefined when they cannot be read. */
  events(obj: KubeObject): Promise<EventLike[] | undefined>;
}

/** Describes `obj` of `kind`; the text ends with a newline. */
export async function renderDescription(kind: KindInfo, obj: KubeObject, sources: DescribeSources, now: number = Date.now()): Promise<string> {
  const events = kind.readOnly ? undefined : await sources.events(obj);
  const describer = kind.describer;
  if (!describer) return tabwrite(describeGeneric(obj, events, now), DESCRIBE_TABWRITER);
  const related = await Promise.all((describer.related ?? []).map(async (r) => {
    const all = await sources.list(r.plural).catch(() => [] as KubeObject[]);
    return all.filter((x) => r.where(x, obj));
  }));
  return tabwrite(describer.describe(obj, { related, events, now }), DESCRIBE_TABWRITER);
}
