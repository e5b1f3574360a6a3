/**
 * The scheduler's settings as an operator gives them: the `scheduler.json` file in the data
 * directory and `mk control-plane`'s flags (a flag wins over the file). Checked once here, so a
 * typo is an error that names it rather than a default taken in silence.
 */
import { ValidationError } from '../../messages';
import type { SchedulerConfig } from './scheduler';
import { SCHEDULING_POLICIES, type SchedulingPolicy } from './schedule';

/** The settings as written, before they are checked. */
export interface SchedulerSettings {
  /** `least-allocated` (the default) or `round-robin`. */
  policy?: unknown;
  /** Seconds a pod that fits nowhere waits before it is tried again anyway (default 300). */
  unschedulableFlushSeconds?: unknown;
}

const FIELDS = ['policy', 'unschedulableFlushSeconds'];

/**
 * Checks the file's settings (`file`, from `fileName`; undefined when there is none) and the
 * flags' (`flags`, which win). Throws ValidationError naming the setting and where it came from.
 */
export function schedulerConfig(file: unknown, fileName: string, flags: SchedulerSettings = {}): SchedulerConfig {
  if (file !== undefined && (typeof file !== 'object' || file === null || Array.isArray(file))) {
    throw new ValidationError(`${fileName}: must be a JSON object with "policy" and/or "unschedulableFlushSeconds"`);
  }
  const f = (file ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(f).filter((k) => !FIELDS.includes(k));
  if (unknown.length) throw new ValidationError(`${fileName}: unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${FIELDS.join(', ')})`);
  const out: SchedulerConfig = {};
  const policy = pick(flags.policy, '--scheduler-policy', f.policy, `${fileName}: policy`);
  if (policy.value !== undefined) {
    if (typeof policy.value !== 'string' || !SCHEDULING_POLICIES.includes(policy.value as SchedulingPolicy)) {
      throw new ValidationError(`${policy.where}: "${String(policy.value)}" is not a scheduling policy (use ${SCHEDULING_POLICIES.join(' or ')})`);
    }
    out.policy = policy.value as SchedulingPolicy;
  }
  const flush = pick(flags.unschedulableFlushSeconds, '--unschedulable-flush-seconds', f.unschedulableFlushSeconds, `${fileName}: unschedulableFlushSeconds`);
  if (flush.value !== undefined) {
    const n = typeof flush.value === 'string' && /^\d+$/.test(flush.value) ? Number(flush.value) : flush.value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new ValidationError(`${flush.where}: "${String(flush.value)}" is not a whole number of seconds of at least 1`);
    }
    out.unschedulableFlushMs = n * 1000;
  }
  return out;
}

function pick(flag: unknown, flagName: string, file: unknown, fileWhere: string): { value: unknown; where: string } {
  return flag !== undefined ? { value: flag, where: flagName } : { value: file, where: fileWhere };
}
