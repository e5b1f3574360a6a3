/** The trace's printed form: every step of the path with its median, then the same grouped. */
import type { Anchor } from './trace-parse';
import type { TraceResult } from './trace';
import { median, round } from './stats';

/** What the step ending at an anchor is, where it runs, and whether raw CRI pays it too. */
export const STEP_INFO: Record<Exclude<Anchor, 'applySent'>, { label: string; where: string; cri?: boolean }> = {
  applyAtServer: { label: 'mk.api.apply request reaches NATS', where: 'client -> NATS' },
  apiFirstRead: { label: 'api actor: receive, validate, admit; namespace read sent', where: 'control plane' },
  kvCreate: { label: 'api actor: namespace and key reads; KV create sent', where: 'control plane' },
  podWatch: { label: 'KV create -> pods watch delivery (supervisor, scheduler cache)', where: 'NATS' },
  podActorRead: { label: 'pods supervisor -> pod actor; its read sent', where: 'control plane' },
  schedulerRead: { label: 'pod actor -> scheduler query; its read sent', where: 'control plane' },
  bindWrite: { label: 'scheduler: decide from its cache; bind write sent', where: 'control plane' },
  bindStored: { label: 'bind write stored; acknowledgement back', where: 'NATS' },
  viewWrite: { label: "scheduler: Scheduled event, reply; pod actor writes the node's view (mk-node-pods) from it", where: 'control plane' },
  nodeWatch: { label: 'view write -> node agent watch delivery', where: 'NATS' },
  podActorRecovered: { label: 'pod actor spawned; its snapshot and journal read', where: 'node agent' },
  firstCriCall: { label: 'pod actor: first reconcile starts', where: 'node agent' },
  runSandboxStart: { label: 'observe: ListPodSandbox, ListContainers, ImageStatus', where: 'node agent' },
  runSandboxEnd: { label: 'RunPodSandbox', where: 'CRI', cri: true },
  createStart: { label: 'observe again (lists and PodSandboxStatus together); reconcile', where: 'node agent' },
  createEnd: { label: 'CreateContainer', where: 'CRI', cri: true },
  startStart: { label: 'between CreateContainer and StartContainer', where: 'node agent' },
  startEnd: { label: 'StartContainer', where: 'CRI', cri: true },
  statusRequest: { label: 'observe again (lists and ContainerStatus together); status built; pod-status request sent', where: 'node agent' },
  statusRead: { label: 'node api: request received; pod read sent', where: 'NATS, control plane' },
  statusWrite: { label: 'node api: status merged; KV update sent', where: 'control plane' },
  watchPublished: { label: 'status write -> watch publisher -> mk.watch publication', where: 'NATS, control plane' },
  runningSeen: { label: 'mk.watch publication -> client sees Running', where: 'NATS -> client' },
};

const SIDE_LABELS: Record<string, string> = {
  kvCreateAck: 'KV create: publish -> stored (ack)',
  bindWatch: 'bind write -> pods watch delivery (sets off another reconcile, off the path)',
  viewAck: "node's view write: publish -> stored (ack)",
  statusAck: 'status write: publish -> stored (ack)',
  applyReply: 'apply request -> reply (the CLI waits for this, the pod does not)',
  statusReply: 'pod-status request -> reply (the node agent waits for this, the client does not)',
  createToWatchPublisher: 'KV create -> watch publisher delivery',
  containerdRunPodSandbox: 'RunPodSandbox inside containerd (its log)',
  containerdCreateContainer: 'CreateContainer inside containerd (its log)',
  containerdStartContainer: 'StartContainer inside containerd (its log)',
};

const f = (v: number) => (Number.isFinite(v) ? round(v).toFixed(1) : '-');

/**
 * Per pod: the steps in groups that add up to apply -> Running (every step is in exactly one).
 * Throws when the result lacks a step.
 */
export function traceGroups(res: TraceResult): { label: string; ms: number[] }[] {
  const step = (to: string) => {
    const s = res.steps.find((x) => x.to === to);
    if (!s) throw new Error(`the trace has no step ending at ${to}`);
    return s.ms;
  };
  const sum = (...tos: string[]) => res.total.map((_, i) => tos.reduce((a, to) => a + step(to)[i], 0));
  return [
    { label: 'control plane: apply -> bind write sent', ms: sum('applyAtServer', 'apiFirstRead', 'kvCreate', 'podWatch', 'podActorRead', 'schedulerRead', 'bindWrite') },
    { label: "control plane: bind -> node's view written", ms: sum('bindStored', 'viewWrite') },
    { label: 'view -> node agent starts its first reconcile', ms: sum('nodeWatch', 'podActorRecovered', 'firstCriCall') },
    { label: 'node agent around the CRI calls (observe passes, reconcile, status)', ms: sum('runSandboxStart', 'createStart', 'startStart', 'statusRequest') },
    { label: 'CRI: RunPodSandbox + CreateContainer + StartContainer', ms: sum('runSandboxEnd', 'createEnd', 'startEnd') },
    { label: 'pod-status request -> client sees Running', ms: sum('statusRead', 'statusWrite', 'watchPublished', 'runningSeen') },
  ];
}

/** The trace as markdown lines. */
export function formatTrace(res: TraceResult): string[] {
  const out = [
    `${res.traced.length} of ${res.pods} pods traced, one at a time on a quiet node; medians (min-max) in ms.`,
    ...(res.failed.length ? [`Not read: ${res.failed.map((x) => `${x.name} (${x.reason})`).join('; ')}`] : []),
    '',
    '| # | step | where | median | min | max |',
    '|---|---|---|---|---|---|',
  ];
  res.steps.forEach((s, i) => {
    const info = STEP_INFO[s.to as Exclude<Anchor, 'applySent'>];
    out.push(`| ${i + 1} | ${info.cri ? `**${info.label}**` : info.label} | ${info.where} | ${f(median(s.ms))} | ${f(Math.min(...s.ms))} | ${f(Math.max(...s.ms))} |`);
  });
  out.push(`| | **apply -> Running** | | **${f(median(res.total))}** | ${f(Math.min(...res.total))} | ${f(Math.max(...res.total))} |`);
  out.push('', 'The same, grouped (medians of the per-pod sums):', '', '| group | median | min | max |', '|---|---|---|---|');
  const g = traceGroups(res);
  for (const x of g) out.push(`| ${x.label} | ${f(median(x.ms))} | ${f(Math.min(...x.ms))} | ${f(Math.max(...x.ms))} |`);
  const cri = g.find((x) => x.label.startsWith('CRI:'))!.ms;
  const own = res.total.map((t, i) => t - cri[i]);
  out.push(`| **mk's own time (apply -> Running minus the three CRI calls)** | **${f(median(own))}** | ${f(Math.min(...own))} | ${f(Math.max(...own))} |`);
  out.push('', 'Off the path:', '', '| what | median | min | max |', '|---|---|---|---|');
  for (const [k, v] of Object.entries(res.side)) out.push(`| ${SIDE_LABELS[k] ?? k} | ${f(median(v))} | ${f(Math.min(...v))} | ${f(Math.max(...v))} |`);
  out.push('', 'Per pod, from apply to Running (median):', '', '| what | count |', '|---|---|');
  for (const [k, v] of Object.entries(res.counts)) out.push(`| ${k} | ${median(v)} |`);
  return out;
}
