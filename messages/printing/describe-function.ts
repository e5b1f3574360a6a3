/**
 * `mk describe function` in kubectl's layout (kubernetes/kubectl pkg/describe/describe.go): name,
 * labels, the runtime and how the function is called, its code, limits and scaling, its
 * environment, its status and its events.
 */
import type { FunctionObject } from '../function';
import {
  DEFAULT_CONCURRENCY, DEFAULT_IDLE_SECONDS, DEFAULT_MAX_INSTANCES, DEFAULT_MIN_INSTANCES, DEFAULT_TIMEOUT_SECONDS, scalingSettings,
} from '../function-names';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age } from './time';

/** Describes `fn` with its `events`. */
export function describeFunction(fn: FunctionObject, events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = fn.metadata;
  const spec = fn.spec;
  const status = fn.status ?? {};
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `CreationTimestamp:\t${md.creationTimestamp ?? '<unknown>'}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Runtime:\t${spec.runtime}\n`);
  if (spec.handler !== undefined) w.write(0, `Handler:\t${spec.handler}\n`);
  if (spec.command !== undefined) w.write(0, `Command:\t${spec.command}\n`);
  w.write(0, 'Code:\n');
  w.write(1, `Digest:\t${spec.code.digest ?? '<none>'}\n`);
  w.write(1, `Size:\t${spec.code.size ?? 0} bytes\n`);
  w.write(1, `Files:\t${spec.code.files ?? 0}\n`);
  w.write(0, `Timeout:\t${spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS}s\n`);
  w.write(0, `Concurrency:\t${spec.concurrency ?? DEFAULT_CONCURRENCY}\n`);
  w.write(0, `Instances:\t${spec.minInstances ?? DEFAULT_MIN_INSTANCES} min | ${spec.maxInstances ?? DEFAULT_MAX_INSTANCES} max | `
    + `${status.instances ?? 0} current | ${status.readyInstances ?? 0} ready\n`);
  w.write(0, `Idle Before Scale-Down:\t${spec.idleSeconds ?? DEFAULT_IDLE_SECONDS}s\n`);
  const scaling = scalingSettings(md.annotations);
  w.write(0, `Scale-Down Window:\t${scaling.windowMs / 1000}s (panic window ${scaling.panicWindowMs / 1000}s, `
    + `panic threshold ${Math.round(scaling.panicThreshold * 100)}%)\n`);
  const panic = status.conditions?.find((c) => c.type === 'Scaling');
  if (panic) w.write(0, `Scaling Mode:\t${panic.reason === 'Panic' ? `Panic since ${panic.lastTransitionTime ?? '<unknown>'}` : 'Stable'}\n`);
  const limits = spec.resources?.limits ?? {};
  const requests = spec.resources?.requests ?? {};
  if (Object.keys(limits).length > 0) {
    w.write(0, 'Limits:\n');
    for (const k of Object.keys(limits).sort()) w.write(1, `${k}:\t${limits[k]}\n`);
  }
  if (Object.keys(requests).length > 0) {
    w.write(0, 'Requests:\n');
    for (const k of Object.keys(requests).sort()) w.write(1, `${k}:\t${requests[k]}\n`);
  }
  const env = spec.env ?? [];
  w.write(0, `Environment:${env.length === 0 ? '\t<none>' : ''}\n`);
  for (const e of env) {
    const from = e.valueFrom?.configMapKeyRef
      ? `<set to the key '${e.valueFrom.configMapKeyRef.key}' of config map '${e.valueFrom.configMapKeyRef.name}'>`
      : e.valueFrom?.secretKeyRef
        ? `<set to the key '${e.valueFrom.secretKeyRef.key}' in secret '${e.valueFrom.secretKeyRef.name}'>`
        : e.value ?? '';
    w.write(1, `${e.name}:\t${from}\n`);
  }
  w.write(0, `URL:\t${status.url ?? '<none>'}\n`);
  w.write(0, `Last Invocation:\t${status.lastInvocation ?? '<none>'}\n`);
  const conditions = status.conditions ?? [];
  if (conditions.length > 0) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tReason\n');
    w.write(1, '----\t------\t------\n');
    for (const c of conditions) w.write(1, `${c.type}\t${c.status}\t${c.reason ?? ''}\n`);
  }
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
