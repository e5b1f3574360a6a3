/** Helpers over observed containers shared by reconcile and deletion. */
import type { Container } from '../../messages/pod';
import type { ContainerView } from './status';
import { neverRan } from './runtime-faults';
import type { ObservedContainer } from './types';

/** Newest first: by creation, then by attempt. */
export const newestFirst = (a: { createdAt: number; attempt: number }, b: { createdAt: number; attempt: number }): number =>
  b.createdAt - a.createdAt || b.attempt - a.attempt;

/** Containers grouped by name, newest first. */
export function groupInstances(containers: ObservedContainer[]): Map<string, ObservedContainer[]> {
  const m = new Map<string, ObservedContainer[]>();
  for (const c of containers) m.set(c.name, [...(m.get(c.name) ?? []), c]);
  for (const list of m.values()) list.sort(newestFirst);
  return m;
}

/** A view per spec container: its newest instance and the previous exited one. */
export function containerView(spec: Container, list: ObservedContainer[] | undefined): ContainerView {
  const latest = list?.[0];
  // The last time the program ended: an instance whose program never ran is not a termination.
  const previous = list?.slice(1).find((c) => c.state === 'CONTAINER_EXITED' && !neverRan(c));
  return { spec, ...(latest ? { latest } : {}), ...(previous ? { previous } : {}) };
}

