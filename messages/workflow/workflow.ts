/**
 * The Workflow spec checked whole (the fields of schema.ts plus every cross-field check of
 * spec-checks.ts) and the Workflow object. Apart from schema.ts so that the checks, which read
 * the spec's types, and the field schemas do not import each other.
 */
import { z } from 'zod';
import { ObjectMeta } from '../meta';
import { WorkflowSpecFields } from './schema';
import { workflowSpecErrors } from './spec-checks';

/** The Workflow spec, with every check of validate.ts. */
export const WorkflowSpec = WorkflowSpecFields.superRefine((spec, ctx) => {
  for (const e of workflowSpecErrors(spec)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
}).meta({ title: 'WorkflowSpec' });
export type WorkflowSpec = z.infer<typeof WorkflowSpecFields>;

/** A Workflow object. It has no status of its own (its runs have theirs); one in a manifest is ignored. */
export const WorkflowSchema = z.strictObject({
  apiVersion: z.literal('mk.io/v1').describe('The API version of the kind: `mk.io/v1`.'),
  kind: z.literal('Workflow').describe('The kind of object: `Workflow`.'),
  metadata: ObjectMeta.describe("The workflow's name, namespace and labels."),
  spec: WorkflowSpec.describe('The states and where to start.'),
  status: z.unknown().optional().meta({
    title: 'WorkflowStatus', description: 'Nothing is reported here: each WorkflowRun reports in its own status. A manifest\'s status is ignored.',
  }),
}).meta({ title: 'Workflow' });
