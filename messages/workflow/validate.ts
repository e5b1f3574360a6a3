/**
 * Validation of a Workflow spec as a whole: its shape (schema.ts) and what spans fields
 * (spec-checks.ts), every problem worded with the path it is at
 * (`spec.states.Add.next: no state named "Ad"`). Unknown fields are named as messages/manifest.ts
 * names them (`unknown field "spec.states.Add.nxt"`).
 */
import { ValidationError } from '../errors';
import { WorkflowSpec } from './workflow';

/** Every problem of `spec` (any value), each `spec.<path>: <what>`; empty when it is a valid Workflow spec. */
export function validateWorkflowSpec(spec: unknown): string[] {
  const res = WorkflowSpec.safeParse(spec);
  if (res.success) return [];
  const unknown: string[] = [];
  const other: string[] = [];
  for (const issue of res.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) unknown.push(`unknown field "${formatPath(['spec', ...issue.path, key])}"`);
    } else if (issue.code === 'invalid_type') {
      const input = valueAt(spec, issue.path);
      other.push(`${formatPath(['spec', ...issue.path])}: ${input === undefined
        ? 'Required value'
        : `Invalid value: ${JSON.stringify(input)}: must be ${article(issue.expected)}`}`);
    } else {
      other.push(`${formatPath(['spec', ...issue.path])}: ${issue.message}`);
    }
  }
  return [...unknown, ...other];
}

/** Parses a Workflow spec; throws ValidationError naming every problem (its `issues`) when it is invalid. */
export function parseWorkflowSpec(spec: unknown): WorkflowSpec {
  const res = WorkflowSpec.safeParse(spec);
  if (res.success) return res.data;
  const issues = validateWorkflowSpec(spec);
  throw new ValidationError(`Workflow spec is invalid: ${issues.join('; ')}`, issues);
}

/** `spec.states.Add.next`, `spec.states.P.branches[0].startAt`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** The value at `path` in `root`, or undefined. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** `a number`, `an object`, `an array`. */
function article(type: string): string {
  if (type === 'record') return 'an object (a mapping)';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
