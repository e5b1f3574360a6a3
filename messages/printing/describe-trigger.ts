/**
 * `mk describe trigger` in kubectl's layout: the source and the target, how firings are
 * delivered (concurrency, tries and backoff, the dead-letter subject), the counts and times the
 * engine recorded, the conditions and the events.
 */
import type { Trigger, TriggerSource } from '../trigger';
import { deadLetterSubjectOf, triggerSourceText, triggerTargetText } from '../trigger-text';
import {
  DEFAULT_TRIGGER_BACKOFF_SECONDS, DEFAULT_TRIGGER_MAX_ATTEMPTS, DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS, DEFAULT_HTTP_METHODS, DEFAULT_FILE_DEBOUNCE_MS,
} from '../trigger-names';
import { briefJson } from './describe-workflow';
import { DescribeWriter, describeTime, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age } from './time';

/** The source's own lines under `Source:`. */
function writeSource(w: DescribeWriter, src: TriggerSource): void {
  if (src.schedule) {
    const s = src.schedule;
    if (s.cron !== undefined) {
      w.write(1, `Cron:\t${s.cron}\n`);
      w.write(1, `Time Zone:\t${s.timeZone ?? 'UTC'}\n`);
    } else {
      w.write(1, `After:\t${s.after ?? ''} (once, after creation)\n`);
    }
    w.write(1, `Starting Deadline Seconds:\t${s.startingDeadlineSeconds === undefined ? '<unset>' : `${s.startingDeadlineSeconds}s`}\n`);
  } else if (src.subject) {
    w.write(1, `Subject:\t${src.subject.subject}\n`);
    const filters = src.subject.filters ?? [];
    w.write(1, `Filters:${filters.length === 0 ? '\t<none>' : ''}\n`);
    for (const f of filters) {
      const what = f.header !== undefined ? `header ${f.header}` : `field ${f.field ?? ''}`;
      const op = f.present !== undefined ? (f.present ? 'present' : 'absent')
        : f.matches !== undefined ? `matches ${JSON.stringify(f.matches)}` : `equals ${briefJson(f.equals)}`;
      w.write(2, `${what}\t${op}\n`);
    }
  } else if (src.http) {
    w.write(1, `Path:\t${src.http.path}\n`);
    w.write(1, `Methods:\t${(src.http.methods ?? DEFAULT_HTTP_METHODS).join(', ')}\n`);
  } else if (src.file) {
    w.write(1, `Node:\t${src.file.node}\n`);
    w.write(1, `Path:\t${src.file.path}\n`);
    w.write(1, `Events:\t${(src.file.events ?? ['create', 'write', 'delete']).join(', ')}\n`);
    w.write(1, `Debounce:\t${src.file.debounceMs ?? DEFAULT_FILE_DEBOUNCE_MS}ms\n`);
  }
}

/** Describes trigger `t` with its `events`. */
export function describeTrigger(t: Trigger, events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = t.metadata;
  const spec = t.spec;
  const st = t.status ?? {};
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `CreationTimestamp:\t${describeTime(md.creationTimestamp)}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Source:\t${triggerSourceText(spec.source)}\n`);
  writeSource(w, spec.source);
  w.write(0, `Target:\t${triggerTargetText(spec.target)}\n`);
  if (spec.target.input !== undefined) {
    w.write(1, `Input:\t${briefJson(spec.target.input)}\n`);
    w.write(1, `Input Mode:\t${spec.target.inputMode ?? 'Merge'}\n`);
  }
  w.write(0, 'Delivery:\n');
  w.write(1, `Concurrency Policy:\t${spec.concurrencyPolicy ?? 'Allow'}\n`);
  w.write(1, `Max Attempts:\t${spec.maxAttempts ?? DEFAULT_TRIGGER_MAX_ATTEMPTS}\n`);
  w.write(1, `Backoff:\t${spec.backoffSeconds ?? DEFAULT_TRIGGER_BACKOFF_SECONDS}s doubling to ${spec.maxBackoffSeconds ?? DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS}s\n`);
  w.write(1, `Dead-Letter Subject:\t${deadLetterSubjectOf(t)}\n`);
  if (spec.source.schedule) w.write(0, `Last Schedule Time:\t${st.lastScheduleTime ? describeTime(st.lastScheduleTime) : '<unset>'}\n`);
  w.write(0, `Last Firing Time:\t${st.lastFiringTime ? describeTime(st.lastFiringTime) : '<none>'}\n`);
  w.write(0, `Firings:\t${st.firings ?? 0} fired | ${st.active ?? 0} active | ${st.succeeded ?? 0} succeeded | `
    + `${st.failed ?? 0} failed tries | ${st.deadLettered ?? 0} dead-lettered | ${st.skipped ?? 0} skipped\n`);
  const conditions = st.conditions ?? [];
  w.write(0, `Conditions:${conditions.length === 0 ? '\t<none>' : ''}\n`);
  if (conditions.length > 0) {
    w.write(1, 'Type\tStatus\tReason\tMessage\n');
    w.write(1, '----\t------\t------\t-------\n');
    for (const c of conditions) w.write(1, `${c.type}\t${c.status}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
  }
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
