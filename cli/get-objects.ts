/**
 * What `mk get` does once its command line is read: list or get the objects, print them, and with
 * `-w` print every change after. Both the oclif command (cli/commands/get.ts) and the fast path
 * (cli/fast-path.ts) run it, so this module and what it imports stay free of oclif, zod, js-yaml
 * (loaded only for `-o yaml`), the JetStream client and the logger: test/unit/cli/startup.test.ts
 * checks it.
 */
import { resolveDataDir } from '../embedded/context';
import type { KindInfo, KubeObject, WatchEvent } from '../messages';
import { encodeToken } from '../messages/names';
import { matches, parseSelector } from '../messages/selectors';
import { watchSubject } from '../messages/subjects';
import { decode, openClient, withClient, type Client } from './client';
import { CliError } from './errors';
import { namespaceFor, parseTargets } from './kinds';
import { renderStructured, toNames } from './output/format';
import { err, out, printError } from './output/io';
import { sortByNamespaceAndName } from './output/order';
import { renderObjects } from './output/tables';

/** `mk get`'s parsed command line (the `args` and `flags` of cli/commands/get.ts). */
export interface GetInput {
  args: { kind: string; names?: string[] };
  flags: {
    'data-dir'?: string;
    namespace?: string;
    'all-namespaces'?: boolean;
    output?: string;
    selector?: string;
    'no-headers'?: boolean;
    watch?: boolean;
  };
}

/**
 * Prints the objects (kubectl's table, or -o wide|json|yaml|name); named objects that do not exist
 * are reported as `Error from server (NotFound)` after the others. Resolves with the exit code: 1
 * when a named object is missing, else 0 (with `-w`, once SIGINT or SIGTERM stops the watch).
 * Throws CliError for a bad combination of arguments, and the bus's errors (UnavailableError, ...).
 */
export async function getObjects({ args, flags }: GetInput): Promise<number> {
  const { kind, names } = parseTargets(args.kind, args.names ?? []);
  const allNs = !!flags['all-namespaces'] && kind.namespaced;
  if (allNs && names.length > 0) throw new CliError('a resource cannot be retrieved by name across all namespaces');
  if (flags.selector && names.length > 0) throw new CliError('name cannot be provided when a selector is specified');
  const namespace = allNs ? undefined : namespaceFor(kind, flags.namespace);
  const dataDir = resolveDataDir(flags['data-dir']);

  const errors: unknown[] = [];
  let objects: KubeObject[] = [];
  // Watching subscribes before listing, so no change between the two is missed.
  const watching = flags.watch ? await startWatch(await openClient(dataDir), kind, namespace) : undefined;
  await withClient(dataDir, async ({ api }) => {
    if (names.length > 0) {
      for (const name of names) {
        try {
          objects.push(await api.get(kind, namespace, name));
        } catch (e) {
          errors.push(e);
        }
      }
    } else {
      objects = await api.list(kind, namespace, flags.selector);
      // A stream's objects (events) come oldest first, as `kubectl get events` shows them; everything else by name.
      if (kind.storage === 'store') sortByNamespaceAndName(objects);
    }
  });

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
  for (const e of errors) printError(e);
  if (errors.length > 0) { await watching?.client.close(); return 1; }
  if (!watching) return 0;
  const reqs = flags.selector ? parseSelector(flags.selector) : [];
  const since = Math.max(0, ...objects.map((o) => Number(o.metadata.resourceVersion ?? 0)));
  const print = (ev: WatchEvent) => {
    const o = ev.object;
    if (ev.revision <= since || (names.length > 0 && !names.includes(o.metadata.name))) return;
    if (ev.type !== 'DELETED' && !matches(reqs, o.metadata.labels)) return;
    if (output === 'json' || output === 'yaml') out(renderStructured(output, [o], true));
    else if (output === 'name') out(toNames(kind, [o]));
    else out(renderObjects(kind, [o], { wide: output === 'wide', withNamespace: allNs, noHeaders: true }));
  };
  await watching.run(print);
  return 0;
}

/**
 * Subscribes to the kind's watch subject (events: their own publications, each new count shown
 * as a change); `run` prints events until SIGINT/SIGTERM.
 */
async function startWatch(client: Client, kind: KindInfo, namespace: string | undefined) {
  const queue: WatchEvent[] = [];
  let deliver: ((ev: WatchEvent) => void) | undefined;
  const isEvent = kind.storage === 'stream';
  const subject = isEvent ? `mk.events.${namespace ? encodeToken(namespace) : '*'}.>` : watchSubject(kind.plural, namespace);
  const sub = client.bus.nc.subscribe(subject, {
    callback: (_err, msg) => {
      const ev: WatchEvent = isEvent
        ? { type: 'MODIFIED', object: decode<KubeObject>(msg.data), revision: Number.MAX_SAFE_INTEGER }
        : decode<WatchEvent>(msg.data);
      if (deliver) deliver(ev); else queue.push(ev);
    },
  });
  await client.bus.nc.flush();
  return {
    client,
    run: (print: (ev: WatchEvent) => void) => new Promise<void>((resolve) => {
      queue.splice(0).forEach(print);
      deliver = print;
      const done = () => { sub.unsubscribe(); void client.close().then(resolve); };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    }),
  };
}
