/** The Workflow and WorkflowRun kinds as messages/ declares them: schemas, the columns of `mk get` and their describers. */
import type { KindInfo } from '../kind';
import type { KubeObject } from '../meta';
import { describeWorkflow, describeWorkflowRun, type WorkflowObject, type WorkflowRunObject } from '../printing/describe-workflow';
import { age, humanDuration } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let wfModuleLoaded: typeof import('../workflow') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const wfModule = () => (wfModuleLoaded ??= require('../workflow') as typeof import('../workflow'));

const wf = (o: KubeObject): WorkflowObject => o as unknown as WorkflowObject;
const run = (o: KubeObject): WorkflowRunObject => o as unknown as WorkflowRunObject;

/** What a run follows: its Workflow's name, or `<inline>` for a run that carries its spec. */
export function runWorkflowName(r: WorkflowRunObject): string {
  return r.spec?.workflowRef?.name ?? (r.spec?.workflow ? '<inline>' : '');
}

/** The CURRENT column: the first state running now and how many more. */
function currentStates(r: WorkflowRunObject): string {
  const states = r.status?.currentStates ?? [];
  if (states.length === 0) return '<none>';
  return states.length === 1 ? states[0] : `${states[0]} +${states.length - 1}`;
}

/** How long the run took (or has taken so far). */
function runDuration(r: WorkflowRunObject, now: number): string {
  const start = r.status?.startTime;
  if (!start) return '';
  const end = r.status?.completionTime ? Date.parse(r.status.completionTime) : now;
  return humanDuration(Math.max(0, end - Date.parse(start)));
}

/** `mk get workflows`: NAME START STATES TIMEOUT AGE. */
export const WorkflowKind: KindInfo = {
  apiVersion: 'mk.io/v1',
  kind: 'Workflow',
  plural: 'workflows',
  singular: 'workflow',
  shortNames: ['wf'],
  namespaced: true,
  get schema() { return wfModule().WorkflowSchema; },
  storage: 'store',
  description: 'States that call functions and other workflows, choose, branch, map, wait, retry and catch, '
    + 'with JSON passed between them; each WorkflowRun of it is journaled and resumes after any crash.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'START', value: (o) => wf(o).spec?.startAt ?? '' },
    { name: 'STATES', value: (o) => String(Object.keys(wf(o).spec?.states ?? {}).length) },
    { name: 'TIMEOUT', value: (o) => (wf(o).spec?.timeoutSeconds !== undefined ? `${wf(o).spec.timeoutSeconds}s` : '<none>') },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
  describer: { describe: (o, ctx) => describeWorkflow(wf(o), ctx.events, ctx.now) },
};

/** `mk get workflowruns`: NAME WORKFLOW STATUS CURRENT DURATION AGE, and SPEC and EVENTS with `-o wide`. */
export const WorkflowRunKind: KindInfo = {
  apiVersion: 'mk.io/v1',
  kind: 'WorkflowRun',
  plural: 'workflowruns',
  singular: 'workflowrun',
  shortNames: ['wfr'],
  namespaced: true,
  get schema() { return wfModule().WorkflowRunSchema; },
  storage: 'store',
  description: 'One run of a Workflow on an input: its phase, the states running now, its output or error and its history. '
    + 'Every transition is journaled before it takes effect, so a run resumes after a crash without calling a finished task again.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'WORKFLOW', value: (o) => runWorkflowName(run(o)) },
    { name: 'STATUS', value: (o) => run(o).status?.phase ?? 'Pending' },
    { name: 'CURRENT', value: (o) => currentStates(run(o)) },
    { name: 'DURATION', value: (o, now) => runDuration(run(o), now) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'SPEC', priority: 1, value: (o) => run(o).status?.specHash?.slice(0, 12) ?? '<none>' },
    { name: 'EVENTS', priority: 1, value: (o) => String(run(o).status?.events ?? 0) },
  ],
  describer: { describe: (o, ctx) => describeWorkflowRun(run(o), ctx.events, ctx.now) },
};
