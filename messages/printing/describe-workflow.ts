/**
 * `mk describe workflow` and `mk describe workflowrun` in kubectl's layout: a workflow's states
 * in a table; a run's phase, times, states running now, input, output or error, and its history
 * as a table (the latest events the status keeps; the journal holds them all).
 */
import type { KubeObject } from '../meta';
import type { State, WorkflowRunSpec, WorkflowRunStatus, WorkflowSpec } from '../workflow';
import { DescribeWriter, describeTime, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age, humanDuration } from './time';

/** A Workflow object as the describer reads it. */
export type WorkflowObject = KubeObject & { spec: WorkflowSpec };
/** A WorkflowRun object as the describer reads it. */
export type WorkflowRunObject = KubeObject & { spec: WorkflowRunSpec; status?: WorkflowRunStatus };

/** The widest payload a description prints before cutting it. */
const PAYLOAD_WIDTH = 200;

/** `value` as one line of JSON, cut to PAYLOAD_WIDTH. */
export function briefJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > PAYLOAD_WIDTH ? `${text.slice(0, PAYLOAD_WIDTH - 3)}...` : text;
}

/** Where a state goes: its next, `end`, the rules of a Choice, or nothing for Succeed and Fail. */
function stateNext(s: State): string {
  switch (s.type) {
    case 'Choice': {
      const targets = [...new Set(s.choices.map((c) => c.next))];
      return [...targets, ...(s.default !== undefined ? [`default ${s.default}`] : [])].join(', ');
    }
    case 'Succeed': case 'Fail': return '';
    default: return s.next ?? (s.end ? '<end>' : '');
  }
}

/** What a state does, in a few words. */
function stateDoes(s: State): string {
  switch (s.type) {
    case 'Task': return s.function !== undefined ? `function ${s.function}` : `workflow ${s.workflow ?? ''}`;
    case 'Parallel': return `${s.branches.length} branches`;
    case 'Map': return `items ${s.itemsPath ?? '$'}${s.maxConcurrency !== undefined ? `, ${s.maxConcurrency} at once` : ''}`;
    case 'Wait': return s.seconds !== undefined ? `${s.seconds}s` : s.timestamp ?? s.secondsPath ?? s.timestampPath ?? '';
    case 'Fail': return [s.error, s.cause].filter((x) => x !== undefined).join(': ');
    default: return '';
  }
}

/** Describes a Workflow with its `events`. */
export function describeWorkflow(w0: WorkflowObject, events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = w0.metadata;
  const spec = w0.spec;
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `CreationTimestamp:\t${describeTime(md.creationTimestamp)}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  if (spec.comment !== undefined) w.write(0, `Comment:\t${spec.comment}\n`);
  w.write(0, `Start At:\t${spec.startAt}\n`);
  w.write(0, `Timeout:\t${spec.timeoutSeconds !== undefined ? `${spec.timeoutSeconds}s` : '<none>'}\n`);
  w.write(0, 'States:\n');
  w.write(1, 'Name\tType\tDoes\tNext\n');
  w.write(1, '----\t----\t----\t----\n');
  for (const [name, s] of Object.entries(spec.states)) w.write(1, `${name}\t${s.type}\t${stateDoes(s)}\t${stateNext(s)}\n`);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}

/** Describes a WorkflowRun with its `events`. */
export function describeWorkflowRun(r: WorkflowRunObject, events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = r.metadata;
  const status = r.status ?? {};
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `CreationTimestamp:\t${describeTime(md.creationTimestamp)}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Workflow:\t${r.spec.workflowRef?.name ?? '<inline>'}\n`);
  w.write(0, `Spec Hash:\t${status.specHash ?? '<none>'}\n`);
  w.write(0, `Phase:\t${status.phase ?? 'Pending'}\n`);
  if (r.spec.cancel !== undefined) w.write(0, `Cancel Requested:\t${r.spec.cancel.reason ?? 'yes'}\n`);
  w.write(0, `Start Time:\t${status.startTime ? describeTime(status.startTime) : '<none>'}\n`);
  if (status.completionTime) w.write(0, `Completion Time:\t${describeTime(status.completionTime)}\n`);
  if (status.startTime) {
    const end = status.completionTime ? Date.parse(status.completionTime) : now;
    w.write(0, `Duration:\t${humanDuration(Math.max(0, end - Date.parse(status.startTime)))}\n`);
  }
  const current = status.currentStates ?? [];
  w.write(0, `Current States:\t${current.length === 0 ? '<none>' : current.join(', ')}\n`);
  w.write(0, `Input:\t${r.spec.inputRef ? `<in ${r.spec.inputRef.bucket}/${r.spec.inputRef.key}>` : briefJson(r.spec.input ?? {})}\n`);
  if (status.output !== undefined) w.write(0, `Output:\t${briefJson(status.output)}\n`);
  if (status.outputRef) w.write(0, `Output:\t<in ${status.outputRef.bucket}/${status.outputRef.key}>\n`);
  if (status.error) w.write(0, `Error:\t${status.error.error}${status.error.cause ? `: ${status.error.cause}` : ''}\n`);
  const rows = status.history ?? [];
  const total = status.events ?? rows.length;
  w.write(0, `History:${rows.length === 0 ? '\t<none>' : rows.length < total ? `\t(the last ${rows.length} of ${total} events)` : ''}\n`);
  if (rows.length > 0) {
    w.write(1, 'Seq\tTime\tType\tState\tDetail\n');
    w.write(1, '---\t----\t----\t-----\t------\n');
    for (const h of rows) w.write(1, `${h.seq}\t${h.time}\t${h.type}\t${h.path || '-'}\t${h.detail}\n`);
  }
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
