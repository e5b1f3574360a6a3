/**
 * The mk.io/v1 WorkflowRun kind: one run of a Workflow (by name, or inline as a run from a text
 * file carries its compiled spec) on an input, and what the workflow engine reports about it.
 */
import { z } from 'zod';
import { ObjectMeta } from '../meta';
import { WorkflowSpec } from './workflow';

/** The phases of a WorkflowRun. Pending and Running are not final; the others are. */
export const WORKFLOW_RUN_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'TimedOut'] as const;
export type WorkflowRunPhase = (typeof WORKFLOW_RUN_PHASES)[number];

/** True for the phases a run never leaves. */
export function isFinalPhase(phase: WorkflowRunPhase | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Cancelled' || phase === 'TimedOut';
}

/** A payload kept in the object store because it is over MAX_INLINE_PAYLOAD_BYTES. */
export const PayloadRef = z.strictObject({
  bucket: z.string().min(1).describe('The object store bucket.'),
  key: z.string().min(1).describe('The key in the bucket.'),
}).meta({ title: 'PayloadRef' });
export type PayloadRef = z.infer<typeof PayloadRef>;

/** The run's spec: which workflow (by name or inline) and its input. */
export const WorkflowRunSpec = z.strictObject({
  workflowRef: z.strictObject({ name: z.string().min(1).describe('The Workflow, in the run\'s namespace.') }).meta({ title: 'WorkflowRef' }).optional()
    .describe('The Workflow to run. Exactly one of workflowRef and workflow.'),
  workflow: WorkflowSpec.optional().describe('The spec to run, inline (a run from a text file carries its compiled spec).'),
  input: z.json().optional().describe('The input (any JSON); `{}` when omitted.'),
  inputRef: PayloadRef.optional().describe('Where a large input is kept instead of input.'),
  cancel: z.strictObject({
    reason: z.string().max(1024).optional().describe('Why, as the run\'s history records it.'),
  }).meta({ title: 'WorkflowRunCancel' }).optional().describe('Set to stop the run (`mk workflow cancel`): its tasks are abandoned and it ends Cancelled. Has no effect on a finished run.'),
}).superRefine((s, ctx) => {
  if (s.workflowRef === undefined && s.workflow === undefined) {
    ctx.addIssue({ code: 'custom', path: ['workflowRef'], message: 'Required value: give exactly one of workflowRef and workflow' });
  } else if (s.workflowRef !== undefined && s.workflow !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['workflow'], message: 'Forbidden: may not be specified together with `workflowRef`' });
  }
  if (s.input !== undefined && s.inputRef !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['inputRef'], message: 'Forbidden: may not be specified together with `input`' });
  }
}).meta({ title: 'WorkflowRunSpec' });
export type WorkflowRunSpec = z.infer<typeof WorkflowRunSpec>;

/** The error a failed run reports. */
export const RunError = z.strictObject({ error: z.string(), cause: z.string().optional() });
export type RunError = z.infer<typeof RunError>;

/** The most rows of history a run's status keeps: the latest ones. */
export const MAX_STATUS_HISTORY = 50;

/** One row of a run's history, as `mk describe workflowrun` shows it. */
export const WorkflowRunHistoryRow = z.strictObject({
  seq: z.number().int().min(1).describe('The event\'s place in the journal.'),
  time: z.string(),
  type: z.string().describe('The event: RunStarted, StateEntered, TaskScheduled, TaskSucceeded, ...'),
  path: z.string().describe('The state execution it is about (`Check#2`); empty for the run\'s own events.'),
  detail: z.string(),
}).meta({ title: 'WorkflowRunHistoryRow' });
export type WorkflowRunHistoryRow = z.infer<typeof WorkflowRunHistoryRow>;

/** What the workflow engine reports about a run. */
export const WorkflowRunStatus = z.strictObject({
  phase: z.enum(WORKFLOW_RUN_PHASES).optional(),
  specHash: z.string().optional().describe('The sha256 (hex) of the canonical spec the run follows, pinned in its first event.'),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
  currentStates: z.array(z.string()).optional().describe('The paths of the states running now.'),
  output: z.json().optional(),
  outputRef: PayloadRef.optional(),
  error: RunError.optional(),
  events: z.number().int().min(0).optional().describe('How many events the run\'s journal holds.'),
  history: z.array(WorkflowRunHistoryRow).max(MAX_STATUS_HISTORY).optional()
    .describe(`The latest events of the run (at most ${MAX_STATUS_HISTORY}); the journal holds them all.`),
}).meta({ title: 'WorkflowRunStatus' });
export type WorkflowRunStatus = z.infer<typeof WorkflowRunStatus>;

/** A WorkflowRun object. */
export const WorkflowRunSchema = z.strictObject({
  apiVersion: z.literal('mk.io/v1').describe('The API version of the kind: `mk.io/v1`.'),
  kind: z.literal('WorkflowRun').describe('The kind of object: `WorkflowRun`.'),
  metadata: ObjectMeta.describe("The run's name, namespace and owner (its Workflow)."),
  spec: WorkflowRunSpec.describe('What to run on which input.'),
  status: z.unknown().optional().meta({
    title: 'WorkflowRunStatus',
    description: 'What the workflow engine reports: phase, currentStates, output or outputRef, error, startTime, completionTime, '
      + 'specHash, events and the latest history rows. A manifest\'s status is ignored.',
  }),
}).meta({ title: 'WorkflowRun' });
