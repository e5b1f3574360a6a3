/**
 * `mk rollout` and `mk set image` without oclif, after kubectl's (k8s.io/kubectl
 * pkg/cmd/rollout, pkg/polymorphichelpers/rollout_status.go, history.go, rollback.go): status waits
 * on a deployment's, daemon set's or stateful set's status, history lists a deployment's
 * ReplicaSets' revisions (a daemon set's or stateful set's ControllerRevisions:
 * rollout-history.ts), undo writes an older revision's template back (the controller gives it a
 * new revision), restart stamps the template, pause and resume flip a deployment's spec.paused,
 * and set image changes containers' images by name.
 */
import type { DaemonSet, Deployment, KubeObject, ReplicaSet, StatefulSet } from '../messages';
import type { Api } from './client';
import { CliError } from './errors';
import { namespaceFor, parseTargets } from './kinds';
import { resolveKind } from '../messages/registry';
import { renderTable } from './output/tabwriter';
import { printPodTemplate, setRolloutHistory, setRolloutUndo } from './rollout-history';
import type { DeploymentTarget, RolloutIo } from './rollout-types';

export type { DeploymentTarget, RolloutIo } from './rollout-types';

const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';
const HASH_LABEL = 'pod-template-hash';
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';


/**
 * Resolves the one deployment `args` name for `mk rollout pause` or `resume` (`verb`: `pausing`,
 * `resuming`); throws CliError for anything else, in kubectl's words for a daemon set or stateful
 * set (`statefulsets.apps "web" pausing is not supported`).
 */
export function deploymentTarget(args: string[], namespaceFlag: string | undefined, verb: 'pausing' | 'resuming' = 'pausing'): DeploymentTarget {
  const [first, ...rest] = args;
  if (first === undefined) throw new CliError('give the deployment: deploy/NAME or deploy NAME');
  const { kind, names } = parseTargets(first, rest);
  if (kind.plural === 'daemonsets' || kind.plural === 'statefulsets') {
    throw new CliError(`${kind.plural}.apps "${names[0] ?? ''}" ${verb} is not supported`);
  }
  if (kind.plural !== 'deployments') throw new CliError(`${kind.plural} have no rollout in mk: only deployments do`);
  if (names.length !== 1) throw new CliError('give exactly one deployment: deploy/NAME');
  return { name: names[0], namespace: namespaceFor(kind, namespaceFlag) ?? 'default' };
}

/**
 * The one deployment, daemon set or stateful set `args` name (`mk rollout status`, `restart` and
 * `mk set image` take all three); throws CliError for anything else.
 */
export function rolloutTarget(args: string[], namespaceFlag: string | undefined): DeploymentTarget {
  const [first, ...rest] = args;
  if (first === undefined) throw new CliError('give the deployment, daemon set or stateful set: deploy/NAME, ds/NAME or sts/NAME');
  const { kind, names } = parseTargets(first, rest);
  if (kind.plural !== 'deployments' && kind.plural !== 'daemonsets' && kind.plural !== 'statefulsets') {
    throw new CliError(`${kind.plural} have no rollout in mk: only deployments, daemonsets and statefulsets do`);
  }
  if (names.length !== 1) throw new CliError(`give exactly one ${kind.singular}: ${kind.shortNames[0]}/NAME`);
  return { name: names[0], namespace: namespaceFor(kind, namespaceFlag) ?? 'default', plural: kind.plural };
}

/** Where a daemon set's rollout is (kubectl's DaemonSetStatusViewer); only RollingUpdate has one. */
export function daemonSetRolloutState(ds: DaemonSet): RolloutState {
  const name = ds.metadata.name;
  if ((ds.spec.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return { done: false, failed: true, message: 'rollout status is only available for RollingUpdate strategy type' };
  }
  const s = ds.status;
  if (!s || (s.observedGeneration ?? 0) < (ds.metadata.generation ?? 0)) {
    return { done: false, failed: false, message: 'Waiting for daemon set spec update to be observed...' };
  }
  const desired = s.desiredNumberScheduled ?? 0;
  const updated = s.updatedNumberScheduled ?? 0;
  if (updated < desired) {
    return { done: false, failed: false, message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...` };
  }
  if ((s.numberAvailable ?? 0) < desired) {
    return { done: false, failed: false, message: `Waiting for daemon set "${name}" rollout to finish: ${s.numberAvailable ?? 0} of ${desired} updated pods are available...` };
  }
  return { done: true, failed: false, message: `daemon set "${name}" successfully rolled out` };
}

/**
 * Where a stateful set's rollout is (kubectl's StatefulSetStatusViewer); only RollingUpdate has
 * one. With a rollingUpdate (mk always defaults one, with partition 0) it is done once replicas
 * minus partition pods are updated, in kubectl's words "partitioned roll out complete"; without
 * one, once the current revision is the update revision.
 */
export function statefulSetRolloutState(sts: StatefulSet): RolloutState {
  const strategy = sts.spec.updateStrategy;
  if ((strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return { done: false, failed: true, message: 'rollout status is only available for RollingUpdate strategy type' };
  }
  const s = sts.status;
  if (!s || !s.observedGeneration || (sts.metadata.generation ?? 0) > s.observedGeneration) {
    return { done: false, failed: false, message: 'Waiting for statefulset spec update to be observed...' };
  }
  const replicas = sts.spec.replicas ?? 1;
  const ready = s.readyReplicas ?? 0;
  if (ready < replicas) return { done: false, failed: false, message: `Waiting for ${replicas - ready} pods to be ready...` };
  const updated = s.updatedReplicas ?? 0;
  if (strategy?.rollingUpdate) {
    const want = replicas - (strategy.rollingUpdate.partition ?? 0);
    if (updated < want) {
      return { done: false, failed: false, message: `Waiting for partitioned roll out to finish: ${updated} out of ${want} new pods have been updated...` };
    }
    return { done: true, failed: false, message: `partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (s.updateRevision !== s.currentRevision) {
    return { done: false, failed: false, message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${s.updateRevision}...` };
  }
  return { done: true, failed: false, message: `statefulset rolling update complete ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision}...` };
}

/** Where a rollout is, as `mk rollout status` says it (kubectl's DeploymentStatusViewer). */
export interface RolloutState { done: boolean; failed: boolean; message: string }

/** The rollout state of `d`: done, failed (progress deadline exceeded), or a waiting message. */
export function rolloutState(d: Deployment): RolloutState {
  const name = d.metadata.name;
  const s = d.status ?? {};
  if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
    return { done: false, failed: false, message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const want = d.spec.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) {
    return { done: false, failed: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...` };
  }
  if ((s.replicas ?? 0) > updated) {
    return { done: false, failed: false, message: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...` };
  }
  if ((s.availableReplicas ?? 0) < updated) {
    return { done: false, failed: false, message: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...` };
  }
  return { done: true, failed: false, message: `deployment "${name}" successfully rolled out` };
}


const getDeployment = async (api: Api, t: DeploymentTarget): Promise<Deployment> => {
  return await api.get(resolveKind('deployments')!, t.namespace, t.name) as unknown as Deployment;
};

/**
 * Prints each new waiting message until the rollout is done, or failed or the
 * timeout passes (throws CliError saying which). timeoutMs 0: no limit; below 0: print the state once.
 */
export async function rolloutStatus(api: Api, t: DeploymentTarget, timeoutMs: number, io: RolloutIo, pollMs = 250): Promise<void> {
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  let last = '';
  for (;;) {
    const state = t.plural === 'daemonsets'
      ? daemonSetRolloutState(await api.get(resolveKind('daemonsets')!, t.namespace, t.name) as unknown as DaemonSet)
      : t.plural === 'statefulsets'
        ? statefulSetRolloutState(await api.get(resolveKind('statefulsets')!, t.namespace, t.name) as unknown as StatefulSet)
        : rolloutState(await getDeployment(api, t));
    if (state.failed) throw new CliError(state.message);
    if (state.message !== last) io.out(`${state.message}\n`);
    last = state.message;
    if (state.done || timeoutMs < 0) return;
    if (Date.now() >= deadline) throw new CliError('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

/** The ReplicaSets `d` controls, by revision. */
async function revisions(api: Api, d: Deployment): Promise<Map<number, ReplicaSet>> {
  const sets = (await api.list('replicasets', d.metadata.namespace ?? 'default')) as unknown as ReplicaSet[];
  const out = new Map<number, ReplicaSet>();
  for (const rs of sets) {
    if (!rs.metadata.ownerReferences?.some((r) => r.controller && r.uid === d.metadata.uid)) continue;
    const n = parseInt(rs.metadata.annotations?.[REVISION] ?? '', 10);
    if (!Number.isNaN(n)) out.set(n, rs);
  }
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

/** `mk rollout history`: REVISION and CHANGE-CAUSE of each revision kept, or one revision's template. */
export async function rolloutHistory(api: Api, t: DeploymentTarget, revision: number | undefined, io: RolloutIo): Promise<void> {
  if (t.plural === 'daemonsets' || t.plural === 'statefulsets') return setRolloutHistory(api, t, revision, io);
  const d = await getDeployment(api, t);
  const revs = await revisions(api, d);
  if (revision !== undefined && revision > 0) {
    const rs = revs.get(revision);
    if (!rs) throw new CliError(`unable to find the specified revision ${revision}`);
    io.out(printPodTemplate(`deployment.apps/${t.name} with revision #${revision}`, rs.spec.template));
    return;
  }
  const rows = [...revs].map(([n, rs]) => [String(n), rs.metadata.annotations?.[CHANGE_CAUSE] ?? '<none>']);
  io.out(`deployment.apps/${t.name}\n${renderTable(['REVISION', 'CHANGE-CAUSE'], rows)}`);
}

/** `mk rollout undo`: writes the template of `toRevision` (0: the one before the current) back. */
export async function rolloutUndo(api: Api, t: DeploymentTarget, toRevision: number, io: RolloutIo): Promise<void> {
  if (t.plural === 'daemonsets' || t.plural === 'statefulsets') return setRolloutUndo(api, t, toRevision, io);
  if (!Number.isInteger(toRevision) || toRevision < 0) throw new CliError('--to-revision must be a whole number, 0 or more');
  const d = await getDeployment(api, t);
  if (d.spec.paused) throw new CliError(`you cannot rollback a paused deployment; resume it first with 'mk rollout resume deployment/${t.name}' and try again`);
  const revs = await revisions(api, d);
  let target: ReplicaSet | undefined;
  if (toRevision === 0) {
    const sorted = [...revs.keys()];
    if (sorted.length < 2) throw new CliError('no rollout history found for deployment "' + t.name + '"');
    target = revs.get(sorted[sorted.length - 2]);
  } else {
    target = revs.get(toRevision);
    if (!target) throw new CliError(`unable to find specified revision ${toRevision} in history`);
  }
  const tpl = structuredClone(target!.spec.template);
  if (tpl.metadata?.labels) delete tpl.metadata.labels[HASH_LABEL];
  const rev = target!.metadata.annotations?.[REVISION];
  if (JSON.stringify(sortKeys(tpl)) === JSON.stringify(sortKeys(d.spec.template))) {
    io.out(`deployment.apps/${t.name} skipped rollback (current template already matches revision ${rev})\n`);
    return;
  }
  const next = { ...d, spec: { ...d.spec, template: tpl } } as unknown as KubeObject;
  await api.update({ object: next, namespace: t.namespace });
  io.out(`deployment.apps/${t.name} rolled back\n`);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** `mk rollout restart`: a new restartedAt annotation on the template makes a new revision. */
export async function rolloutRestart(api: Api, t: DeploymentTarget, io: RolloutIo, now = new Date()): Promise<void> {
  if (t.plural === 'daemonsets' || t.plural === 'statefulsets') {
    const kind = resolveKind(t.plural)!;
    await api.get(kind, t.namespace, t.name);
    const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
    await api.patch({ kind: t.plural, namespace: t.namespace, name: t.name, type: 'merge', patch: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: stamp } } } } } });
    io.out(`${kind.singular}.apps/${t.name} restarted\n`);
    return;
  }
  const d = await getDeployment(api, t);
  if (d.spec.paused) throw new CliError(`deployments.apps "${t.name}" can't restart paused deployment (run rollout resume first)`);
  const at = now.toISOString().replace(/\.\d+Z$/, 'Z');
  await api.patch({ kind: 'deployments', namespace: t.namespace, name: t.name, type: 'merge', patch: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } } });
  io.out(`deployment.apps/${t.name} restarted\n`);
}

/** `mk rollout pause|resume`: sets spec.paused; an error when it already is so. */
export async function rolloutPause(api: Api, t: DeploymentTarget, paused: boolean, io: RolloutIo): Promise<void> {
  const d = await getDeployment(api, t);
  if (!!d.spec.paused === paused) throw new CliError(`deployments.apps "${t.name}" is ${paused ? 'already paused' : 'not paused'}`);
  await api.patch({ kind: 'deployments', namespace: t.namespace, name: t.name, type: 'merge', patch: { spec: { paused } } });
  io.out(`deployment.apps/${t.name} ${paused ? 'paused' : 'resumed'}\n`);
}

/** Parses `container=image` pairs; `*` names every container. Throws CliError on a bad pair. */
export function parseImages(pairs: string[]): Map<string, string> {
  if (pairs.length === 0) throw new CliError('give at least one CONTAINER=IMAGE');
  const out = new Map<string, string>();
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0 || i === p.length - 1) throw new CliError(`"${p}" is not CONTAINER=IMAGE`);
    out.set(p.slice(0, i), p.slice(i + 1));
  }
  return out;
}

/** `mk set image deploy/NAME c=image...` (or ds/NAME): changes the named containers' images in one patch. */
export async function setImage(api: Api, t: DeploymentTarget, images: Map<string, string>, io: RolloutIo): Promise<void> {
  const plural = t.plural ?? 'deployments';
  const d = await api.get(resolveKind(plural)!, t.namespace, t.name) as unknown as Deployment | DaemonSet | StatefulSet;
  const containers = d.spec.template.spec.containers;
  for (const name of images.keys()) {
    if (name !== '*' && !containers.some((c) => c.name === name)) throw new CliError(`unable to find container named "${name}"`);
  }
  const patch = containers
    .filter((c) => images.has(c.name) || images.has('*'))
    .map((c) => ({ name: c.name, image: images.get(c.name) ?? images.get('*')! }));
  await api.patch({ kind: plural, namespace: t.namespace, name: t.name, type: 'strategic', patch: { spec: { template: { spec: { containers: patch } } } } });
  io.out(`${resolveKind(plural)!.singular}.apps/${t.name} image updated\n`);
}
