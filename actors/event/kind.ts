/**
 * The Event kind's control-plane side: events are recorded by mk's components into the events
 * stream, never written through the api, and read from that stream.
 */
import { EventKind } from '../../messages';
import type { KindModule } from '../kind-module';
import { eventSource } from './source';

export const eventModule: KindModule = {
  info: EventKind,
  source: eventSource,
};
