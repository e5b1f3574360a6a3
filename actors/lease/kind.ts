/**
 * The Lease kind's control-plane side: leases are written by the control planes' leader election
 * (actors/leadership.ts) straight to the store, never through the api, which only reads them.
 */
import { LeaseKind } from '../../messages';
import type { KindModule } from '../kind-module';

export const leaseModule: KindModule = {
  info: LeaseKind,
};
