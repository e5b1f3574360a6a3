/** bus/: NATS plumbing for mk. Everything above it (actors, node agent, CLI) imports from here. */
export { connectBus, type Bus, type BusOptions } from './connection';
export { jetStreamNotReady, untilJetStreamReady, type JetStreamWaitOptions } from './connection';
export { connectCore, type CoreBus, type CoreBusOptions } from './core-client';
export { connectError, JsApiCodes, jsApiCode, serverHint, translateError, type ErrorContext } from './errors';
export { AGGREGATION_WINDOW_MS, EventAggregator } from './event-aggregator';
export {
  ensureEventsStream, EventRecorder, EVENTS_LIST_LIMIT, EVENTS_MAX_AGE_MS, EVENTS_MAX_MSGS, listEvents, purgeNamespaceEvents,
  type ListEventsOptions, type RecordEvent,
} from './events';
export { eventsStreamBounds, watchEventStream, type EventsStreamBounds, type EventWatchOptions } from './event-watch';
export { busLog } from './log';
export { MAX_VALUE_BYTES } from './object-codec';
export { shareInformers, startInformer, type Informer, type InformerEvent } from './informer';
export { ObjectStore, type Stored, type WatchEvent, type WatchOptions } from './object-store';
export {
  EncryptionError, ENVELOPE_PREFIX, generateKey, isEncryptionError, isSealed, KEY_BYTES, KeyRing, sealedKeyId, type EncryptionKey,
} from './secret-envelope';
export { checkKeyCanary, checkSealedSecrets, sealStoredSecrets } from './secret-sealing';
export { JetStreamPersistenceEngine, keyToken } from './persistence';
export { decode, DEFAULT_REQUEST_TIMEOUT_MS, encode, errorBody, flushed, okReply, request, serve, unwrap, type Served } from './request';
export {
  DEFAULT_LEASE_SECONDS, LeaderElector, leaseTiming, NotLeaderError, systemClock,
  type LeaderCallbacks, type LeaderElectorOptions, type LeaseBackend, type LeaseClock, type LeaseSpec, type LeaseTiming,
} from './lease';
export { actorTreeAt, treeAt, type ActorTree } from './actor-history';
export { ensureActorStream } from './actor-stream';
