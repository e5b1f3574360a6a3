/**
 * `mk rollout history` and `undo` for stateful sets and daemon sets, which keep their history as
 * ControllerRevisions (after kubectl's pkg/polymorphichelpers/history.go and rollback.go): the
 * history lists the revisions the set controls by number with their change-cause, `--revision`
 * prints one revision's pod template, and undo writes a revision's template back into the set
 * (its controller then reuses that revision and gives it the next number).
 */
import { revisionTemplate, resolveKind, type ControllerRevision, type DaemonSet, type KubeObject, type PodTemplateSpec, type StatefulSet } from '../messages';
import type { Api } from './client';
import { CliError } from './errors';
import { renderTable } from './output/tabwriter';
import type { DeploymentTarget, RolloutIo } from './rollout-types';

const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/** A pod template as `rollout history --revision=N` prints it, under `header`. */
export function printPodTemplate(header: string, tpl: PodTemplateSpec): string {
  const labels = Object.entries(tpl.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const lines = [header, 'Pod Template:', `  Labels:\t${labels || '<none>'}`];
  const annotations = Object.entries(tpl.metadata?.annotations ?? {}).map(([k, v]) => `${k}: ${v}`);
  if (annotations.length > 0) lines.push(`  Annotations:\t${annotations.join('\n\t')}`);
  lines.push('  Containers:');
  for (const c of tpl.spec.containers) lines.push(`   ${c.name}:`, `    Image:\t${c.image}`);
  return `${lines.join('\n')}\n`;
}

/** The set `t` names and its revisions by number (a number held twice keeps the later one, as kubectl does). */
async function setHistory(api: Api, t: DeploymentTarget): Promise<{ set: StatefulSet | DaemonSet; revs: Map<number, ControllerRevision>; label: string }> {
  const kind = resolveKind(t.plural!)!;
  const set = await api.get(kind, t.namespace, t.name) as unknown as StatefulSet | DaemonSet;
  const all = (await api.list('controllerrevisions', t.namespace)) as unknown as ControllerRevision[];
  const revs = new Map<number, ControllerRevision>();
  for (const r of all) {
    if (r.metadata.ownerReferences?.some((o) => o.controller && o.uid === set.metadata.uid)) revs.set(r.revision, r);
  }
  return { set, revs: new Map([...revs].sort((a, b) => a[0] - b[0])), label: `${kind.singular}.apps/${t.name}` };
}

/**
 * `mk rollout history sts/NAME` or `ds/NAME`: REVISION and CHANGE-CAUSE of each revision the set
 * keeps, or with `revision` > 0 that revision's pod template. Throws CliError for a revision it
 * does not have.
 */
export async function setRolloutHistory(api: Api, t: DeploymentTarget, revision: number | undefined, io: RolloutIo): Promise<void> {
  const { revs, label } = await setHistory(api, t);
  if (revs.size === 0) {
    io.out(`${label}\nNo rollout history found.\n`);
    return;
  }
  if (revision !== undefined && revision > 0) {
    const rev = revs.get(revision);
    const tpl = rev && revisionTemplate(rev);
    if (!tpl) throw new CliError(`unable to find the specified revision ${revision}`);
    io.out(printPodTemplate(`${label} with revision #${revision}`, tpl));
    return;
  }
  const rows = [...revs].map(([n, r]) => [String(n), r.metadata.annotations?.[CHANGE_CAUSE] || '<none>']);
  io.out(`${label}\n${renderTable(['REVISION', 'CHANGE-CAUSE'], rows)}`);
}

/**
 * `mk rollout undo sts/NAME` or `ds/NAME`: writes the template of revision `toRevision` (0: the
 * one before the newest) back into the set. Says `skipped rollback` when the set's template is
 * already that revision's. Throws CliError when there is no history, no earlier revision, or no
 * such revision.
 */
export async function setRolloutUndo(api: Api, t: DeploymentTarget, toRevision: number, io: RolloutIo): Promise<void> {
  if (!Number.isInteger(toRevision) || toRevision < 0) throw new CliError('--to-revision must be a whole number, 0 or more');
  const { set, revs, label } = await setHistory(api, t);
  const singular = resolveKind(t.plural!)!.singular;
  if (revs.size === 0) throw new CliError(`no rollout history found for ${singular} "${t.name}"`);
  let number = toRevision;
  if (toRevision === 0) {
    if (revs.size <= 1) throw new CliError('no last revision to roll back to');
    number = [...revs.keys()][revs.size - 2];
  }
  const rev = revs.get(number);
  const tpl = rev && revisionTemplate(rev);
  if (!tpl) throw new CliError(`unable to find specified revision ${number} in history`);
  if (stableText(tpl) === stableText(set.spec.template)) {
    io.out(`${label} skipped rollback (current template already matches revision ${number})\n`);
    return;
  }
  const next = { ...set, spec: { ...set.spec, template: tpl } } as unknown as KubeObject;
  await api.update({ object: next, namespace: t.namespace });
  io.out(`${label} rolled back\n`);
}

/** JSON with sorted keys: two templates are the same when their texts are. */
function stableText(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(sort(v));
}
