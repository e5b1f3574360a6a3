/**
 * The bus's Prometheus metrics (common/metrics): the NATS connection's state and the watches'
 * delivery lag and restarts. Defined here, next to the code that updates them.
 */
import { counter, gauge, histogram, LATENCY_BUCKETS } from '../common/metrics';

/** 1 while the connection named `connection` is connected, 0 while it is reconnecting or closed. */
export const natsConnected = gauge({
  name: 'mk_nats_connected',
  help: 'Whether this process is connected to NATS (1) or not (0), per connection name.',
  labelNames: ['connection'] as const,
});

/** Reconnects after a lost connection. */
export const natsReconnects = counter({
  name: 'mk_nats_reconnects_total',
  help: 'Times a NATS connection of this process reconnected after losing its server.',
  labelNames: ['connection'] as const,
});

/** Disconnects seen by the status iterator. */
export const natsDisconnects = counter({
  name: 'mk_nats_disconnects_total',
  help: 'Times a NATS connection of this process lost its server.',
  labelNames: ['connection'] as const,
});

/**
 * From a change's write to the store (the stream's timestamp of the KV message) to its delivery
 * to the watch's handler. Changes replayed from history at the start of a watch are not counted.
 */
export const watchLag = histogram({
  name: 'mk_watch_lag_seconds',
  help: 'Seconds from a KV write (its stream timestamp) to its delivery to a watcher; history replayed at a watch\'s start is not counted.',
  buckets: [...LATENCY_BUCKETS, 30, 60],
});

/** Watches resumed on a new consumer, or relisted because they could not resume. */
export const watchRestarts = counter({
  name: 'mk_watch_restarts_total',
  help: 'Times a store watch started again: resume (a new consumer from the last revision), lagging (its consumer read a copy of the stream behind the leader\'s) or relist (it could not resume without a gap).',
  labelNames: ['reason'] as const,
});
