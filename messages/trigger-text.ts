/**
 * A trigger's source and target in a few words, as `mk get triggers` and `mk describe trigger`
 * print them. No zod, no I/O.
 */
import type { Trigger, TriggerSource, TriggerTarget } from './trigger';
import { DEFAULT_HTTP_METHODS, triggerDeadLetterSubject } from './trigger-names';

/** `schedule 0 * * * *`, `after 10s`, `subject orders.>`, `http POST /hooks/x`, `file n1:/data`. */
export function triggerSourceText(src: TriggerSource | undefined): string {
  if (src?.schedule) {
    const s = src.schedule;
    return s.cron !== undefined ? `schedule ${s.cron}${s.timeZone ? ` (${s.timeZone})` : ''}` : `after ${s.after ?? ''}`;
  }
  if (src?.subject) return `subject ${src.subject.subject}${src.subject.filters?.length ? ` (${src.subject.filters.length} filters)` : ''}`;
  if (src?.http) return `http ${(src.http.methods ?? DEFAULT_HTTP_METHODS).join(',')} ${src.http.path}`;
  if (src?.file) return `file ${src.file.node}:${src.file.path}`;
  return '<none>';
}

/** `function/<name>` or `workflow/<name>`. */
export function triggerTargetText(target: TriggerTarget | undefined): string {
  if (target?.function !== undefined) return `function/${target.function}`;
  if (target?.workflow !== undefined) return `workflow/${target.workflow}`;
  return '<none>';
}

/** The subject the trigger's dead letters go to: its own, or `mk.trigger.dlq.<ns>.<name>`. */
export function deadLetterSubjectOf(t: Trigger): string {
  return t.spec.deadLetterSubject ?? triggerDeadLetterSubject(t.metadata.namespace ?? 'default', t.metadata.name);
}
