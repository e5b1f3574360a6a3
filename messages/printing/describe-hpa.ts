/**
 * `kubectl get hpa`'s TARGETS cell and `mk describe hpa`, in the sections and wording of kubectl's
 * HorizontalPodAutoscalerDescriber (kubernetes/kubectl pkg/describe/describe.go) and its printer
 * (pkg/printers/internalversion/printers.go formatHPAMetrics).
 */
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from '../hpa';
import { DescribeWriter, describeTime, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age } from './time';

/** `cpu: 45%/80%` for one metric; `<unknown>` where status has no current value. */
function target(spec: MetricSpec, current: MetricStatus | undefined): string {
  const r = spec.resource;
  if (!r) return `${spec.type}: <unknown>`;
  const cur = current?.resource.current;
  if (r.target.type === 'Utilization') {
    const have = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>';
    return `${r.name}: ${have}/${r.target.averageUtilization ?? '<unset>'}%`;
  }
  return `${r.name}: ${cur?.averageValue ?? '<unknown>'}/${r.target.averageValue ?? '<unset>'}`;
}

/** The TARGETS cell: each metric as `name: current/target`, joined by `, ` (`<none>` without metrics). */
export function hpaTargets(hpa: HorizontalPodAutoscaler): string {
  const specs = hpa.spec?.metrics ?? [];
  if (specs.length === 0) return '<none>';
  const current = hpa.status?.currentMetrics ?? [];
  return specs.map((m) => target(m, current.find((c) => c.resource?.name === m.resource?.name))).join(', ');
}

/** `Deployment/web`, the REFERENCE cell. */
export function hpaReference(hpa: HorizontalPodAutoscaler): string {
  const r = hpa.spec?.scaleTargetRef;
  return r ? `${r.kind}/${r.name}` : '';
}

/** Describes an HPA; `events` are its events, or undefined when none could be listed. */
export function describeHpa(hpa: HorizontalPodAutoscaler, events?: EventLike[], now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = hpa.metadata;
  const spec = hpa.spec;
  const st = hpa.status ?? {};
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `CreationTimestamp:\t${describeTime(md.creationTimestamp)}\n`);
  w.write(0, `Reference:\t${hpaReference(hpa)}\n`);
  w.write(0, 'Metrics:\t( current / target )\n');
  for (const m of spec.metrics ?? []) {
    const r = m.resource;
    if (!r) continue;
    const cur = st.currentMetrics?.find((c) => c.resource?.name === r.name)?.resource.current;
    if (r.target.type === 'Utilization') {
      const have = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}% (${cur.averageValue ?? ''})` : '<unknown>';
      w.write(1, `resource ${r.name} on pods  (as a percentage of request):\t${have} / ${r.target.averageUtilization}%\n`);
    } else {
      w.write(1, `resource ${r.name} on pods:\t${cur?.averageValue ?? '<unknown>'} / ${r.target.averageValue}\n`);
    }
  }
  w.write(0, `Min replicas:\t${spec.minReplicas ?? 1}\n`);
  w.write(0, `Max replicas:\t${spec.maxReplicas}\n`);
  const b = spec.behavior;
  if (b) {
    w.write(0, 'Behavior:\n');
    for (const [title, rules] of [['Scale Up', b.scaleUp], ['Scale Down', b.scaleDown]] as const) {
      if (!rules) continue;
      w.write(1, `${title}:\n`);
      w.write(2, `Stabilization Window: ${rules.stabilizationWindowSeconds ?? 0} seconds\n`);
      w.write(2, `Select Policy: ${rules.selectPolicy ?? 'Max'}\n`);
      w.write(2, 'Policies:\n');
      for (const p of rules.policies ?? []) w.write(3, `- Type: ${p.type}  Value: ${p.value}  Period: ${p.periodSeconds} seconds\n`);
    }
  }
  w.write(0, `${spec.scaleTargetRef.kind} pods:\t${st.currentReplicas ?? 0} current / ${st.desiredReplicas ?? 0} desired\n`);
  if (st.lastScaleTime) w.write(0, `Last Scale Time:\t${describeTime(st.lastScaleTime)}\n`);
  if (st.conditions?.length) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tReason\tMessage\n');
    w.write(1, '----\t------\t------\t-------\n');
    for (const c of st.conditions) w.write(1, `${c.type}\t${c.status}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
  }
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
