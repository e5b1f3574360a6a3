/**
 * What `mk get` does once its command line is read: list or get the objects, print them, and with
 * `-w` print every change after. Both the oclif command (cli/commands/get.ts) and the fast path
 * (cli/fast-path.ts) run it, so this module and what it imports stay free of oclif, zod, js-yaml
 * (loaded only for `-o yaml`), the JetStream client and the logger: test/unit/cli/startup.test.ts
 * checks it.
 */
import { resolveDataDir } from '../embedded/context';
import type { KindInfo, KubeObject, WatchEvent } from '../messages';
import { openClient, withClient, type Client } from './client';
import { CliError } from './errors';
import { allKinds, namespaceFor, parseTargets } from './kinds';
import { renderStructured, toJson, toNames, toYaml } from './output/format';
import { err, out, printError } from './output/io';
import { sortByNamespaceAndName } from './output/order';
import { renderObjects } from './output/tables';
import { streamWatch } from './watch-stream';

/** `mk get`'s parsed command line (the `args` and `flags` of cli/commands/get.ts). */
export interface GetInput {
  args: { kind: string; names?: string[] };
  flags: {
    'data-dir'?: string;
    namespace?: string;
    'all-namespaces'?: boolean;
    output?: string;
    selector?: string;
    'field-selector'?: string;
    'no-headers'?: boolean;
    watch?: boolean;
    'watch-only'?: boolean;
    'resource-version'?: string;
  };
}

/**
 * Prints the objects (kubectl's table, or -o wide|json|yaml|name); named objects that do not exist
 * are reported as `Error from server (NotFound)` after the others. Resolves with the exit code: 1
 * when a named object is missing, else 0 (with `-w`, once SIGINT or SIGTERM stops the watch).
 * Throws CliError for a bad combination of arguments, and the bus's errors (UnavailableError, ...).
 */
export async function getObjects({ args, flags }: GetInput): Promise<number> {
  if (args.kind === 'all' && (args.names ?? []).length === 0) return getAll(flags);
  const { kind, names } = parseTargets(args.kind, args.names ?? []);
  const allNs = !!flags['all-namespaces'] && kind.namespaced;
  const watch = !!flags.watch || !!flags['watch-only'];
  if (allNs && names.length > 0) throw new CliError('a resource cannot be retrieved by name across all namespaces');
  if ((flags.selector || flags['field-selector']) && names.length > 0) throw new CliError('name cannot be provided when a selector is specified');
  if (watch && names.length > 1) throw new CliError('you may only specify a single resource name when watching');
  if (flags['resource-version'] !== undefined && !watch) throw new CliError('--resource-version is only used with --watch or --watch-only');
  if (flags['resource-version'] !== undefined && !/^\d+$/.test(flags['resource-version'])) {
    throw new CliError(`--resource-version must be a revision such as 42 (got "${flags['resource-version']}")`);
  }
  const namespace = allNs ? undefined : namespaceFor(kind, flags.namespace);
  const dataDir = resolveDataDir(flags['data-dir']);
  const output = flags.output;

  const errors: unknown[] = [];
  let objects: KubeObject[] = [];
  let resourceVersion: string;
  const stop = watch ? stopOnSignal() : undefined;
  const client = await openClient(dataDir).catch((e: unknown) => { stop?.release(); throw e; });
  try {
    if (watch && names.length === 1) {
      // A listing by name, for the revision to watch from (an object's own may predate what the store keeps).
      const listed = await client.api.listAt(kind, namespace, undefined, `metadata.name=${names[0]}`);
      objects = listed.items;
      resourceVersion = listed.resourceVersion;
      if (objects.length === 0 && !flags['watch-only']) {
        printError(new CliError(`${kind.plural} "${names[0]}" not found`));
        return 1;
      }
    } else if (names.length > 0) {
      for (const name of names) {
        try {
          objects.push(await client.api.get(kind, namespace, name));
        } catch (e) {
          errors.push(e);
        }
      }
      resourceVersion = String(Math.max(0, ...objects.map((o) => Number(o.metadata.resourceVersion ?? 0))));
    } else {
      const listed = await client.api.listAt(kind, namespace, flags.selector, flags['field-selector']);
      objects = listed.items;
      resourceVersion = listed.resourceVersion;
      // A stream's objects (events) come oldest first, as `kubectl get events` shows them; everything else by name.
      if (kind.storage === 'store') sortByNamespaceAndName(objects);
    }
    if (!watch) {
      printListing(kind, objects, names, allNs, namespace, flags);
      for (const e of errors) printError(e);
      return errors.length > 0 ? 1 : 0;
    }
    const printer = streamPrinter(kind, output, allNs, !!flags['no-headers']);
    if (!flags['watch-only']) {
      if (output === 'json' || output === 'yaml' || output === 'name') objects.forEach((o) => printer(o));
      else if (objects.length > 0) printer.table(objects);
    }
    return await watchStore(client, kind, {
      namespace, name: names[0], labelSelector: flags.selector, fieldSelector: flags['field-selector'],
      resourceVersion: flags['resource-version'] ?? resourceVersion,
    }, printer, flags['watch-only'] ? [] : objects, stop!);
  } finally {
    stop?.release();
    await client.close();
  }
}

/** Prints a listing (no watch) as kubectl does. */
function printListing(kind: KindInfo, objects: KubeObject[], names: string[], allNs: boolean, namespace: string | undefined, flags: GetInput['flags']): void {
  const output = flags.output;
  if (output === 'json' || output === 'yaml') {
    if (objects.length > 0 || names.length === 0) out(renderStructured(output, objects, names.length === 1));
  } else if (objects.length === 0 && names.length === 0) {
    err(kind.namespaced && namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
  } else if (output === 'name') {
    out(toNames(kind, objects));
  } else if (objects.length > 0) {
    out(renderObjects(kind, objects, { wide: output === 'wide', withNamespace: allNs, noHeaders: flags['no-headers'] }));
  }
}

/** Prints one object per change: a table row (the header before the first), or a document. */
function streamPrinter(kind: KindInfo, output: string | undefined, allNs: boolean, noHeaders: boolean) {
  let headed = noHeaders;
  let docs = 0;
  const table = (objs: KubeObject[]) => {
    out(renderObjects(kind, objs, { wide: output === 'wide', withNamespace: allNs, noHeaders: headed }));
    headed = true;
  };
  const print = (o: KubeObject): void => {
    if (output === 'json') out(toJson(o));
    else if (output === 'yaml') out((docs++ > 0 ? '---\n' : '') + toYaml(o));
    else if (output === 'name') out(toNames(kind, [o]));
    else table([o]);
  };
  return Object.assign(print, { table });
}

/**
 * Streams the changes through mk.api.watch until SIGINT or SIGTERM; an expired watch relists,
 * printing only what differs from what was printed (`printed`, the listing, and the changes
 * since), and goes on. Events too: their resourceVersion is their sequence in the events stream,
 * and a repeat's new count comes as a change. Resolves with the exit code.
 */
async function watchStore(
  client: Client, kind: KindInfo,
  target: { namespace?: string; name?: string; labelSelector?: string; fieldSelector?: string; resourceVersion: string },
  print: (o: KubeObject) => void,
  printed: readonly KubeObject[],
  stop: ReturnType<typeof stopOnSignal>,
): Promise<number> {
  // What the user has seen, so that a relist prints only what changed since.
  const seen = new Map<string, string>();
  const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  for (const o of printed) seen.set(keyOf(o), o.metadata.resourceVersion ?? '');
  try {
    const handle = await streamWatch(client.bus, client.ctx.user, { kind, ...target }, {
      onEvent: (ev: WatchEvent) => {
        if (ev.type === 'DELETED') seen.delete(keyOf(ev.object)); else seen.set(keyOf(ev.object), ev.object.metadata.resourceVersion ?? '');
        print(ev.object);
      },
      relist: async () => {
        err(`watch expired (the ${kind.storage === 'store' ? 'store' : 'events stream'} no longer has every change since its revision); listing again`);
        const listed = await client.api.listAt(kind, target.namespace, target.labelSelector, target.fieldSelector);
        for (const o of listed.items) {
          if (target.name && o.metadata.name !== target.name) continue;
          if (seen.get(keyOf(o)) !== o.metadata.resourceVersion) print(o);
          seen.set(keyOf(o), o.metadata.resourceVersion ?? '');
        }
        return listed.resourceVersion;
      },
    });
    stop.onStop(() => handle.stop());
    await handle.done;
    return 0;
  } finally {
    stop.release();
  }
}

/**
 * SIGINT and SIGTERM, taken from the start of a watch (before the listing is printed: a user or
 * a script that stops the watch on seeing it must get exit 0, not a process killed by the signal).
 * `onStop(fn)` runs fn at once when the signal has already come.
 */
function stopOnSignal() {
  let stopped = false;
  let onStop: (() => unknown) | undefined;
  const stop = () => { stopped = true; void onStop?.(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    onStop: (fn: () => unknown) => { onStop = fn; if (stopped) void fn(); },
    release: () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); },
  };
}

/** `mk get all`: each kind of the `all` category as a table of its own, names as `kind/name`. */
async function getAll(flags: GetInput['flags']): Promise<number> {
  if (flags.watch || flags['watch-only']) throw new CliError('mk get all cannot be watched: watch one kind (mk get pods -w)');
  const allNs = !!flags['all-namespaces'];
  const namespace = allNs ? undefined : flags.namespace || 'default';
  const kinds = allKinds();
  const listed = await withClient(resolveDataDir(flags['data-dir']), async ({ api }) => {
    const res: { kind: KindInfo; items: KubeObject[] }[] = [];
    for (const kind of kinds) {
      const items = await api.list(kind, namespace, flags.selector, flags['field-selector']);
      sortByNamespaceAndName(items);
      res.push({ kind, items });
    }
    return res;
  });
  const output = flags.output;
  const every = listed.flatMap((l) => l.items);
  if (output === 'json' || output === 'yaml') {
    out(renderStructured(output, every, false));
    return 0;
  }
  if (every.length === 0) {
    err(namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
    return 0;
  }
  if (output === 'name') {
    out(listed.map((l) => toNames(l.kind, l.items)).join(''));
    return 0;
  }
  const tables = listed.filter((l) => l.items.length > 0)
    .map((l) => renderObjects(l.kind, l.items, { wide: output === 'wide', withNamespace: allNs, noHeaders: flags['no-headers'], kindPrefix: true }));
  out(tables.join('\n'));
  return 0;
}
