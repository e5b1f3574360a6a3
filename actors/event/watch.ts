/**
 * mk.api.watch for events. An event's resourceVersion is its sequence in the MK_EVENTS stream.
 * The first occurrence of an event is ADDED; a repeat (the recorder publishes it again under the
 * same name with a higher count, as Kubernetes updates an aggregated event) is MODIFIED. Events
 * that age out of the stream are not announced. Without a resourceVersion the stream begins with
 * an ADDED for each event listed now and a BOOKMARK at the listing's revision. A resourceVersion
 * older than the stream keeps is `too old resource version: N (M)`, M being the highest sequence
 * the stream dropped; one it never reached, or one asked for with the `epoch` of a stream made
 * again since, is Expired too.
 */
import { eventsStreamBounds, listEvents, watchEventStream, type Bus } from '../../bus';
import { ExpiredError, type KubeObject, type WatchRequest } from '../../messages';
import type { OpenedWatch, WatchOutput } from '../kind-module';
import { eventSelection } from './select';

/** Kubernetes' words for a watch from before what is kept (its 410 Gone). */
function tooOld(rv: number, dropped: number): ExpiredError {
  return new ExpiredError(`too old resource version: ${rv} (${dropped})`);
}

/** Starts a watch of events after `rv` (or from now, after listing them); see the module comment. */
export async function watchEvents(bus: Bus, req: WatchRequest, rv: number | undefined, out: WatchOutput): Promise<OpenedWatch> {
  const { test, ...filters } = eventSelection(req);
  const selected = (o: KubeObject) => (req.name === undefined || o.metadata.name === req.name) && test(o);
  let from: number;
  if (rv !== undefined) {
    const bounds = await eventsStreamBounds(bus);
    if (req.epoch !== undefined && req.epoch !== bounds.created) {
      throw new ExpiredError(`resource version ${rv} is of an events stream that was made again since: list again`);
    }
    if (rv < bounds.dropped) throw tooOld(rv, bounds.dropped);
    if (rv > bounds.last) {
      throw new ExpiredError(`too large resource version: ${rv} (the events stream is at ${bounds.last}; it was made again since): list again`);
    }
    from = rv + 1;
  } else {
    const { items, revision } = await listEvents(bus, filters);
    for (const o of items) if (selected(o)) out.send({ type: 'ADDED', object: o, revision: Number(o.metadata.resourceVersion ?? 0) });
    out.send({ type: 'BOOKMARK', revision });
    from = revision + 1;
  }
  let last = from - 1;
  const watch = await watchEventStream(bus, {
    ...(filters.namespace ? { namespace: filters.namespace } : {}),
    ...(filters.involvedKind ? { involvedKind: filters.involvedKind } : {}),
    fromRevision: from,
    onExpired: (reason) => {
      if (reason === 'stream-recreated') {
        out.expired(`resource version ${last} is gone: the events stream was made again; list again`);
        return;
      }
      void eventsStreamBounds(bus).then(
        (b) => out.expired(tooOld(last, b.dropped).message),
        () => out.expired(`too old resource version: ${last}`),
      );
    },
  }, (ev, revision) => {
    last = revision;
    const o = ev as unknown as KubeObject;
    if (selected(o)) out.send({ type: (ev.count ?? 1) > 1 ? 'MODIFIED' : 'ADDED', object: o, revision });
  });
  return { resourceVersion: String(from - 1), epoch: watch.created, last: () => last, stop: () => watch.stop() };
}
