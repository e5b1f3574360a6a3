/**
 * The hash a WorkflowRun pins its spec by (its first journal event and status.specHash), so a run
 * replayed after its Workflow changed can tell. It lives here rather than in messages/, which
 * uses no node modules.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../messages/workflow/canonical-json';

/** The sha256 (64 lower-case hex digits) of the spec's canonical JSON: equal specs hash the same whatever their key order. */
export function specHash(spec: unknown): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}
