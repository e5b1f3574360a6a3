/**
 * The parts kubectl's describe prints alike for every kind that holds a pod template (ReplicaSet,
 * Deployment, DaemonSet, Job, CronJob): the template, the pods' phases, the conditions table.
 */
import type { Pod, PodSpec } from '../pod';
import { envValueText } from './env-text';
import { writeLabels, type DescribeWriter } from './describe-writer';
import { writeMounts, writeVolumes } from './describe-volumes';

/** A pod template as the kinds hold it. */
export interface PodTemplateLike {
  metadata?: { labels?: Record<string, string> };
  spec?: Pick<PodSpec, 'containers' | 'volumes'> & { restartPolicy?: string };
}

/**
 * `Pod Template:` with its labels and, per container, image, ports, command, args, environment and
 * mounts; then its volumes, and `Restart Policy:` too when `restartPolicy` (Jobs and CronJobs print it).
 */
export function writePodTemplate(w: DescribeWriter, template: PodTemplateLike | undefined, opts: { restartPolicy?: boolean } = {}): void {
  w.write(0, 'Pod Template:\n');
  writeLabels(w, '  Labels', template?.metadata?.labels);
  w.write(1, 'Containers:\n');
  for (const c of template?.spec?.containers ?? []) {
    w.write(2, `${c.name}:\n`);
    w.write(3, `Image:\t${c.image}\n`);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ');
    w.write(3, `Port:\t${ports || '<none>'}\n`);
    if (c.command?.length) w.write(3, `Command:\t${c.command.join(' ')}\n`);
    if (c.args?.length) w.write(3, `Args:\t${c.args.join(' ')}\n`);
    w.write(3, `Environment:\t${(c.env ?? []).map((e) => `${e.name}=${envValueText(e).replace(/\t/g, ' ')}`).join(', ') || '<none>'}\n`);
    writeMounts(w, 3, c.volumeMounts);
  }
  writeVolumes(w, 1, template?.spec?.volumes);
  if (opts.restartPolicy) w.write(1, `Restart Policy:\t${template?.spec?.restartPolicy ?? ''}\n`);
}

/** `Pods Status:` counting the pods by phase (Pending shown as Waiting), as kubectl does. */
export function writePodsStatus(w: DescribeWriter, pods: Pod[]): void {
  const phase = (p: string) => pods.filter((x) => (x.status?.phase ?? 'Pending') === p).length;
  w.write(0, `Pods Status:\t${phase('Running')} Running / ${phase('Pending')} Waiting / ${phase('Succeeded')} Succeeded / ${phase('Failed')} Failed\n`);
}

/** The `Conditions:` table (Type, Status, Reason); nothing when there are none. */
export function writeConditions(w: DescribeWriter, conditions: { type: string; status: string; reason?: string }[] | undefined): void {
  if (!conditions?.length) return;
  w.write(0, 'Conditions:\n');
  w.write(1, 'Type\tStatus\tReason\n');
  w.write(1, '----\t------\t------\n');
  for (const c of conditions) w.write(1, `${c.type}\t${c.status}\t${c.reason ?? ''}\n`);
}
