/**
 * The leadership "workload" of a chaos round: it makes nothing and only judges, in every settled
 * world, that the control planes' lease has one live holder, the only control plane that says it
 * leads (cluster-invariants.ts checkLeader). With `mk up --control-planes 2` and the `leader`
 * fault, the holder is SIGKILLed mid-round and a standby must take over.
 */
import type { ChaosKind, ChaosWorkload, Violation, WorldSnapshot } from './kind';
import { checkLeader, controlPlaneLease } from './cluster-invariants';

class LeadershipWorkload implements ChaosWorkload {
  readonly kind = 'leadership';
  readonly plurals = ['leases'] as const;
  readonly steps = [];
  summary(): string { return 'one live lease holder, the only control plane that leads'; }
  stepViolations(): Violation[] { return []; }
  check(world: WorldSnapshot): Violation[] {
    if (!world.objects) return [];
    return checkLeader(controlPlaneLease(world.objects.get('leases')), world.controlPlanes ?? [], world.atMs);
  }
  async cleanup(): Promise<void> { /* nothing made */ }
  checkCleaned(): Violation[] { return []; }
  report(): unknown { return {}; }
}

/** The leader invariant: see the module comment. */
export const leadershipKind: ChaosKind = {
  name: 'leadership',
  generate: () => new LeadershipWorkload(),
};
