/**
 * The node commands' logic (`mk cordon`, `uncordon`, `drain`, `taint`): parsing taint specs and
 * changing a node's taints as kubectl does (kubernetes/kubectl pkg/cmd/taint), choosing which pods
 * a drain evicts (pkg/drain/filters.go), and writing a node back through the api's apply with the
 * whole object. Pure but for updateNode and waitPodsGone; no schemas are loaded.
 */
import { withClient, type Api } from './client';
import { CliError } from './errors';
import { isNotFound } from '../messages/errors';
import { NodeKind } from '../messages/kinds/node';
import { PodKind } from '../messages/kinds/pod';
import type { Node } from '../messages/cluster';
import type { KubeObject } from '../messages/meta';
import type { Pod } from '../messages/pod';
import type { Taint, TaintEffect } from '../messages/scheduling';

const EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a qualified name (an optional DNS prefix and `/`, then a name), or undefined. */
function keyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (!PREFIX.test(prefix) || prefix.length > 253)) return `prefix "${prefix}" must be a DNS subdomain`;
  if (!NAME.test(name)) return 'the name part must be 63 characters or less, of letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  return undefined;
}

/** A taint to add, or one to remove (every effect of the key when `effect` is absent). */
export type TaintChange = { op: 'add'; taint: Taint } | { op: 'remove'; key: string; effect?: TaintEffect };

/** Whether an argument of `mk taint` is a taint spec rather than a node name. */
export function isTaintSpec(arg: string): boolean {
  return arg.includes('=') || arg.includes(':') || arg.endsWith('-');
}

/**
 * Parses kubectl's taint specs: `key=value:Effect` and `key:Effect` add, `key:Effect-` and `key-`
 * remove. Throws CliError naming the spec and what is wrong with it.
 */
export function parseTaintSpecs(specs: string[]): TaintChange[] {
  const out: TaintChange[] = [];
  for (const spec of specs) {
    const bad = (why: string): never => { throw new CliError(`invalid taint spec "${spec}": ${why}`); };
    const remove = spec.endsWith('-');
    const body = remove ? spec.slice(0, -1) : spec;
    const colon = body.lastIndexOf(':');
    const keyValue = colon >= 0 ? body.slice(0, colon) : body;
    const effect = colon >= 0 ? body.slice(colon + 1) : undefined;
    if (effect !== undefined && !EFFECTS.includes(effect as TaintEffect)) bad(`unsupported taint effect "${effect}": must be one of ${EFFECTS.join(', ')}`);
    const eq = keyValue.indexOf('=');
    const key = eq >= 0 ? keyValue.slice(0, eq) : keyValue;
    const value = eq >= 0 ? keyValue.slice(eq + 1) : undefined;
    if (!key) bad('the key is empty');
    const ke = keyError(key);
    if (ke) bad(`invalid key "${key}": ${ke}`);
    if (remove) {
      out.push({ op: 'remove', key, ...(effect ? { effect: effect as TaintEffect } : {}) });
      continue;
    }
    if (effect === undefined) bad('an effect is required (key=value:Effect or key:Effect; Effect is one of NoSchedule, PreferNoSchedule, NoExecute)');
    if (value && !NAME.test(value)) bad(`invalid value "${value}": must be 63 characters or less, of letters, digits, "-", "_" or ".", starting and ending with a letter or digit`);
    out.push({ op: 'add', taint: { key, ...(value ? { value } : {}), effect: effect as TaintEffect } });
  }
  for (const a of out) {
    if (a.op !== 'add') continue;
    if (out.some((r) => r.op === 'remove' && r.key === a.taint.key && (!r.effect || r.effect === a.taint.effect))) {
      throw new CliError(`can not both modify and remove the taint ${a.taint.key}:${a.taint.effect} in one command`);
    }
  }
  return out;
}

/**
 * The node's taints after `changes`, and the word kubectl prints (`tainted`, or `untainted` when
 * only removing). Throws CliError for a taint already there with the same key and effect unless
 * `overwrite`, and for a removal that matches nothing.
 */
export function applyTaintChanges(node: Node, changes: TaintChange[], overwrite: boolean): { taints: Taint[]; verb: 'tainted' | 'untainted' } {
  let taints = [...(node.spec?.taints ?? [])];
  const name = node.metadata.name;
  for (const c of changes) {
    if (c.op === 'remove') {
      const left = taints.filter((t) => !(t.key === c.key && (!c.effect || t.effect === c.effect)));
      if (left.length === taints.length) throw new CliError(`taint "${c.key}${c.effect ? `:${c.effect}` : ''}" not found on node ${name}`);
      taints = left;
      continue;
    }
    const i = taints.findIndex((t) => t.key === c.taint.key && t.effect === c.taint.effect);
    if (i < 0) { taints.push(c.taint); continue; }
    if (!overwrite) throw new CliError(`node ${name} already has ${c.taint.key} taint(s) with same effect(s) and --overwrite is false`);
    taints[i] = c.taint;
  }
  return { taints, verb: changes.some((c) => c.op === 'add') ? 'tainted' : 'untainted' };
}

/** What a drain does with each pod of the node. */
export interface DrainPlan {
  /** Pods to delete. */
  evict: Pod[];
  /** Lines for stderr (`Warning: ...`) about pods ignored or deleted by a flag's leave. */
  warnings: string[];
  /** Why the drain cannot go on; empty when it can. */
  errors: string[];
}

/** The flags that let a drain go past pods it would refuse. */
export interface DrainOptions { force: boolean; ignoreDaemonsets: boolean; deleteEmptydirData: boolean }

const ref = (p: Pod): string => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
const controllerOf = (p: Pod) => p.metadata.ownerReferences?.find((o) => o.controller) ?? undefined;

/**
 * kubectl's drain filters: finished pods are deleted as they are; DaemonSet pods are refused
 * unless ignored (then left running); pods no controller manages are refused unless `force`;
 * pods with emptyDir volumes are refused unless `deleteEmptydirData`.
 */
export function planDrain(pods: Pod[], opts: DrainOptions): DrainPlan {
  const evict: Pod[] = [];
  const groups = { daemonset: [] as string[], unmanaged: [] as string[], local: [] as string[] };
  const warn = { daemonset: [] as string[], unmanaged: [] as string[], local: [] as string[] };
  for (const p of pods) {
    const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    if (finished) { evict.push(p); continue; }
    const owner = controllerOf(p);
    if (owner?.kind === 'DaemonSet') {
      (opts.ignoreDaemonsets ? warn : groups).daemonset.push(ref(p));
      continue;
    }
    let refused = false;
    if (!owner) {
      if (opts.force) warn.unmanaged.push(ref(p)); else { groups.unmanaged.push(ref(p)); refused = true; }
    }
    if ((p.spec.volumes ?? []).some((v) => v.emptyDir !== undefined)) {
      if (opts.deleteEmptydirData) warn.local.push(ref(p)); else { groups.local.push(ref(p)); refused = true; }
    }
    if (!refused) evict.push(p);
  }
  const errors: string[] = [];
  if (groups.daemonset.length) errors.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${groups.daemonset.join(', ')}`);
  if (groups.unmanaged.length) errors.push(`cannot delete Pods that declare no controller (use --force to override): ${groups.unmanaged.join(', ')}`);
  if (groups.local.length) errors.push(`cannot delete Pods with local storage (use --delete-emptydir-data to override): ${groups.local.join(', ')}`);
  const warnings: string[] = [];
  if (warn.daemonset.length) warnings.push(`Warning: ignoring DaemonSet-managed Pods: ${warn.daemonset.join(', ')}`);
  if (warn.unmanaged.length) warnings.push(`Warning: deleting Pods that declare no controller: ${warn.unmanaged.join(', ')}`);
  if (warn.local.length) warnings.push(`Warning: deleting Pods with local storage: ${warn.local.join(', ')}`);
  return { evict, warnings, errors };
}

/**
 * Reads node `name`, lets `change` edit a copy (returning false when there is nothing to do), and
 * writes it back whole through mk.api.apply. Resolves with whether it wrote. NotFound passes
 * through as `Error from server (NotFound): nodes "x" not found`.
 */
export async function updateNode(api: Api, name: string, change: (node: Node) => boolean): Promise<boolean> {
  const node = structuredClone(await api.get(NodeKind, undefined, name)) as unknown as Node;
  if (!change(node)) return false;
  await api.apply({ object: node as unknown as KubeObject });
  return true;
}

/** The pods bound to `node`, in every namespace. */
export async function podsOnNode(api: Api, node: string): Promise<Pod[]> {
  return ((await api.list(PodKind)) as unknown as Pod[]).filter((p) => p.spec?.nodeName === node);
}

/**
 * Polls until every pod is gone (or replaced by another pod of that name), calling `onGone` for
 * each as it goes; resolves with those left at `deadline` (undefined: no deadline).
 */
export async function waitPodsGone(api: Api, pods: Pod[], deadline: number | undefined, onGone: (p: Pod) => void): Promise<Pod[]> {
  let pending = [...pods];
  for (;;) {
    const still: Pod[] = [];
    for (const p of pending) {
      try {
        const cur = await api.get(PodKind, p.metadata.namespace ?? 'default', p.metadata.name);
        if (cur.metadata.uid === p.metadata.uid) still.push(p); else onGone(p);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        onGone(p);
      }
    }
    pending = still;
    if (pending.length === 0 || (deadline !== undefined && Date.now() >= deadline)) return pending;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Throws CliError unless exactly one of names and selector is given. */
export function checkNodeTarget(names: string[], selector: string | undefined): void {
  if (names.length && selector) throw new CliError('node names cannot be given together with --selector');
  if (!names.length && !selector) throw new CliError('you must provide one or more nodes: NODE..., or -l SELECTOR');
}

/** The nodes a command names: `names`, or those matching `selector`; CliError for neither or both. */
export async function resolveNodes(api: Api, names: string[], selector: string | undefined): Promise<string[]> {
  checkNodeTarget(names, selector);
  if (names.length) return names;
  return (await api.list(NodeKind, undefined, selector)).map((n) => n.metadata.name);
}

/**
 * Sets spec.unschedulable on each node (named, or matching `selector`), printing kubectl's lines;
 * resolves with the exit code. Says `No resources found` when a selector matches no node.
 */
export async function setUnschedulable(
  cmd: { out(t: string): void; err(t: string): void; printErr(e: unknown): void }, dataDir: string,
  target: { names: string[]; selector?: string }, value: boolean,
): Promise<number> {
  let code = 0;
  const verb = value ? 'cordoned' : 'uncordoned';
  checkNodeTarget(target.names, target.selector);
  await withClient(dataDir, async ({ api }) => {
    const nodes = await resolveNodes(api, target.names, target.selector);
    if (nodes.length === 0) cmd.err('No resources found');
    for (const name of nodes) {
      try {
        const changed = await updateNode(api, name, (n) => {
          if (!!n.spec?.unschedulable === value) return false;
          n.spec = { ...n.spec };
          if (value) n.spec.unschedulable = true; else delete n.spec.unschedulable;
          return true;
        });
        cmd.out(`node/${name} ${changed ? '' : 'already '}${verb}\n`);
      } catch (e) {
        code = 1;
        cmd.printErr(e);
      }
    }
  });
  return code;
}
