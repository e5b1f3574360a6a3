/**
 * A pod's containers as `mk describe pod` summarises them: ready, restarts, state, and the last
 * termination (reason, exit code, signal) that a restart left behind. Shown on the pod's page and
 * on the pages of the actors that keep it.
 */
import type { ContainerState, ContainerStatus, PodStatus } from '../../../../messages/pod';
import { h } from '../dom';

/** A container state in a few words: `Running`, `Waiting: CrashLoopBackOff`, `Terminated: Error (exit 137)`. */
export function stateText(s: ContainerState | undefined): string {
  if (!s) return '';
  if (s.running) return 'Running';
  if (s.waiting) return `Waiting${s.waiting.reason ? `: ${s.waiting.reason}` : ''}`;
  if (s.terminated) {
    const t = s.terminated;
    return `Terminated: ${t.reason ?? 'Unknown'} (exit ${t.exitCode}${t.signal ? `, signal ${t.signal}` : ''})`;
  }
  return '';
}

/** The containers table of a pod object (anything with a pod's status), or a note when it has none. */
export function containersTable(obj: { status?: unknown } | null | undefined): HTMLElement {
  const statuses: ContainerStatus[] = [
    ...((obj?.status as PodStatus | undefined)?.initContainerStatuses ?? []),
    ...((obj?.status as PodStatus | undefined)?.containerStatuses ?? []),
  ];
  if (statuses.length === 0) return h('p', { class: 'muted' }, 'No container has started yet.');
  return h('table', { class: 'containers' },
    h('thead', {}, h('tr', {}, ...['container', 'ready', 'restarts', 'state', 'last termination'].map((c) => h('th', {}, c)))),
    h('tbody', {}, ...statuses.map((c) => h('tr', { 'data-container': c.name },
      h('td', {}, c.name), h('td', {}, c.ready ? 'yes' : 'no'), h('td', { class: 'num restarts' }, String(c.restartCount)),
      h('td', {}, stateText(c.state)), h('td', { class: 'last-termination' }, stateText(c.lastState))))));
}
