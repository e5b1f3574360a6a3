import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient, type Api } from '../client';
import { dryRunFlag, dryRunSuffix } from '../dry-run';
import { CliError } from '../errors';
import { namespaceFor, parseTargets } from '../kinds';
import { groupedKind, type KindInfo } from '../../messages';
import { isNotFound } from '../../messages/errors';
import { kindOf } from '../../messages/registry';

/** An object to delete; `uid`, once known, is the one deleted (a successor of its name is not waited for). */
interface Target { kind: KindInfo; namespace: string | undefined; name: string; uid?: string }

/**
 * `mk delete KIND NAME... | -f FILE`: marks each object for deletion, prints `pod "NAME" deleted`,
 * and (with --wait, the default) waits until the objects are gone.
 */
export default class Delete extends MkCommand {
  static override summary = 'Delete objects by file name, by kind and name, or by kind and label selector';
  static override examples = [
    '<%= config.bin %> delete pod demo',
    '<%= config.bin %> delete -f examples/demo-pod.yaml',
    '<%= config.bin %> delete pods -l app=web --now',
    '<%= config.bin %> delete pods --all',
    '<%= config.bin %> delete pod owner --cascade=foreground',
  ];
  static override args = {
    targets: Args.string({ description: 'KIND NAME... or KIND/NAME...', multiple: true }),
  };
  static override flags = {
    ...namespaceFlags,
    filename: Flags.string({ char: 'f', description: 'file, directory or - with the objects to delete', multiple: true, multipleNonGreedy: true }),
    recursive: Flags.boolean({ char: 'R', description: 'process directories recursively', default: false }),
    selector: Flags.string({ char: 'l', description: 'delete the objects matching this label selector' }),
    all: Flags.boolean({ description: 'delete every object of the kind in the namespace', default: false }),
    'field-selector': Flags.string({ description: 'delete the objects matching this field selector (metadata.name=x, status.phase=Failed)' }),
    cascade: Flags.string({
      description: 'what happens to the objects this one owns: background (deleted after it), foreground (deleted before it), orphan (kept)',
      options: ['background', 'foreground', 'orphan', 'true', 'false'], default: 'background',
    }),
    'grace-period': Flags.integer({ description: 'seconds the pod gets to stop (-1: the object\'s own)', default: -1, min: -1 }),
    now: Flags.boolean({ description: 'stop immediately (grace period 1)', default: false }),
    force: Flags.boolean({ description: 'remove at once, without waiting for the pod to stop (grace period 0)', default: false }),
    wait: Flags.boolean({ description: 'wait until the objects are gone', default: true, allowNo: true }),
    'ignore-not-found': Flags.boolean({ description: 'a missing object is not an error', default: false }),
    timeout: Flags.integer({ description: 'seconds to wait for deletion (0: grace period + 60)', default: 0, min: 0 }),
    ...dryRunFlag,
  };

  /** Deletes; exit 1 when an object is missing (unless --ignore-not-found) or the wait times out. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Delete);
    const [kindArg, ...names] = args.targets ?? [];
    if (flags.now && flags.force) throw new CliError('--now and --force are mutually exclusive');
    const grace = flags.force ? 0 : flags.now ? 1 : flags['grace-period'] >= 0 ? flags['grace-period'] : undefined;
    // kubectl's older spelling: true is background, false is orphan.
    const cascade = ({ background: 'Background', true: 'Background', foreground: 'Foreground', orphan: 'Orphan', false: 'Orphan' } as const)[
      flags.cascade as 'background' | 'foreground' | 'orphan' | 'true' | 'false'];
    const targets = flags.filename ? await fromFiles(flags.filename, flags.recursive, flags.namespace) : undefined;
    if (targets && kindArg) throw new CliError('when -f is given, no kind or names may be given');
    if (!targets && !kindArg) throw new CliError('you must provide one or more resources by argument or filename (mk delete KIND NAME, or -f FILE)');

    let failed = false;
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      const list = targets ?? (await this.fromArgs(api, kindArg, names, flags));
      if (list.length === 0 && (flags.all || flags.selector || flags['field-selector'])) this.err('No resources found');
      if (flags.force) this.err('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.');
      const deleted: Target[] = [];
      for (const t of list) {
        try {
          const dryRun = flags['dry-run'];
          if (dryRun === 'client') await api.get(t.kind, t.namespace, t.name);
          const r = dryRun === 'client' ? undefined
            : await api.delete(t.kind, t.namespace, t.name, { gracePeriodSeconds: grace, propagationPolicy: cascade, dryRun: dryRun === 'server' });
          this.out(`${groupedKind(t.kind)} "${t.name}" ${flags.force ? 'force deleted' : 'deleted'}${dryRunSuffix(dryRun)}\n`);
          // Found gone when the reply was lost (no uid to tell it from a successor): nothing to wait for.
          const uid = r?.object.metadata.uid;
          if (dryRun === 'none' && (uid || r?.result !== 'deleted')) deleted.push({ ...t, ...(uid ? { uid } : {}) });
        } catch (e) {
          if (isNotFound(e) && flags['ignore-not-found']) continue;
          failed = true;
          this.printError(e);
        }
      }
      if (flags.wait && !flags.force) {
        const timeoutMs = (flags.timeout || (grace ?? 30) + 60) * 1000;
        for (const t of await waitGone(api, deleted, Date.now() + timeoutMs)) {
          failed = true;
          this.err(`error: timed out waiting for the deletion of ${t.kind.plural}/${t.name}`);
        }
      }
    });
    if (failed) this.exit(1);
  }

  private async fromArgs(
    api: Api, kindArg: string, names: string[], flags: { namespace?: string; selector?: string; 'field-selector'?: string; all: boolean },
  ): Promise<Target[]> {
    const { kind, names: ns } = parseTargets(kindArg, names);
    const namespace = namespaceFor(kind, flags.namespace);
    const selecting = flags.selector !== undefined || flags['field-selector'] !== undefined;
    if (ns.length > 0 && (selecting || flags.all)) throw new CliError('names cannot be given together with --selector, --field-selector or --all');
    if (flags.all && selecting) throw new CliError('--all cannot be given together with --selector or --field-selector');
    if (ns.length > 0) return ns.map((name) => ({ kind, namespace, name }));
    if (!selecting && !flags.all) throw new CliError(`resource(s) were provided, but no name was specified (give names, -l SELECTOR or --all)`);
    const items = await api.list(kind, namespace, flags.selector, flags['field-selector']);
    return items.map((o) => ({ kind, namespace: o.metadata.namespace ?? namespace, name: o.metadata.name }));
  }
}

/** Reads the objects named by -f (kind and name only; nothing is deleted unless all parse). */
async function fromFiles(files: string[], recursive: boolean, nsFlag: string | undefined): Promise<Target[]> {
  // Loaded only for -f: reading manifests brings js-yaml and the schemas, which deleting by name never needs.
  const { readManifests } = await import('../manifest-reader.js');
  const docs = await readManifests(files, { recursive });
  return docs.map((d) => {
    const o = d.doc as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    const kind = typeof o?.apiVersion === 'string' && typeof o.kind === 'string' ? kindOf(o.apiVersion, o.kind) : undefined;
    if (!kind) throw new CliError(`${d.source} (document ${d.index}): unknown or missing apiVersion/kind`);
    if (typeof o.metadata?.name !== 'string') throw new CliError(`${d.source} (document ${d.index}): metadata.name not set`);
    const ns = typeof o.metadata.namespace === 'string' ? o.metadata.namespace : undefined;
    return { kind, namespace: namespaceFor(kind, ns ?? nsFlag), name: o.metadata.name };
  });
}

/**
 * Polls until each object is gone; returns those still present at the deadline. An object of the
 * same name but another uid is a successor (a StatefulSet's replica made again, say): the one
 * deleted is gone, as kubectl's wait for deletion decides by uid.
 */
async function waitGone(api: Api, targets: Target[], deadline: number): Promise<Target[]> {
  let pending = [...targets];
  while (pending.length > 0) {
    const still: Target[] = [];
    for (const t of pending) {
      try {
        const cur = await api.get(t.kind, t.namespace, t.name);
        if (!t.uid || cur.metadata.uid === t.uid) still.push(t);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    pending = still;
    if (pending.length === 0 || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return pending;
}
