import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { decode, openClient, withClient } from '../client';
import { CliError } from '../errors';
import { kindsHelp, namespaceFor, parseTargets } from '../kinds';
import { OUTPUT_FORMATS, renderStructured, toNames } from '../output/format';
import { renderObjects } from '../output/tables';
import { encodeToken, matches, parseSelector, watchSubject, type KindInfo, type KubeObject, type WatchEvent } from '../../messages';
import type { Client } from '../client';

/**
 * `mk get KIND [NAME...]`: kubectl's table (or -o wide|json|yaml|name). Named objects that do not
 * exist are reported as `Error from server (NotFound)` after the others and make the exit code 1.
 */
export default class Get extends MkCommand {
  static override summary = 'Display one or many objects';
  static override examples = [
    '<%= config.bin %> get pods',
    '<%= config.bin %> get pod demo -o yaml',
    '<%= config.bin %> get pods -A -o wide',
    '<%= config.bin %> get nodes',
    '<%= config.bin %> get events -A',
  ];
  static override args = {
    kind: Args.string({ description: `kind: ${kindsHelp()}; or KIND/NAME`, required: true }),
    names: Args.string({ description: 'object names', multiple: true }),
  };
  static override flags = {
    ...namespaceFlags,
    'all-namespaces': Flags.boolean({ char: 'A', description: 'list across all namespaces', default: false }),
    output: Flags.string({ char: 'o', description: 'output format', options: [...OUTPUT_FORMATS] }),
    selector: Flags.string({ char: 'l', description: 'label selector (a=b, a!=b, a in (x,y), a, !a)' }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
    watch: Flags.boolean({ char: 'w', description: 'after listing, watch for changes and print each one (Ctrl-C to stop)', default: false }),
  };

  /** Prints the objects; exit 1 when a named object is missing. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Get);
    const { kind, names } = parseTargets(args.kind, args.names ?? []);
    const allNs = flags['all-namespaces'] && kind.namespaced;
    if (allNs && names.length > 0) throw new CliError('a resource cannot be retrieved by name across all namespaces');
    if (flags.selector && names.length > 0) throw new CliError('name cannot be provided when a selector is specified');
    const namespace = allNs ? undefined : namespaceFor(kind, flags.namespace);

    const errors: unknown[] = [];
    let objects: KubeObject[] = [];
    // Watching subscribes before listing, so no change between the two is missed.
    const watching = flags.watch ? await startWatch(await openClient(this.dataDir(flags['data-dir'])), kind, namespace) : undefined;
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
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
        if (kind.storage === 'store') objects.sort(byNamespaceAndName);
      }
    });

    const output = flags.output;
    if (output === 'json' || output === 'yaml') {
      if (objects.length > 0 || names.length === 0) this.out(renderStructured(output, objects, names.length === 1));
    } else if (objects.length === 0 && names.length === 0) {
      this.err(kind.namespaced && namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
    } else if (output === 'name') {
      this.out(toNames(kind, objects));
    } else if (objects.length > 0) {
      this.out(renderObjects(kind, objects, { wide: output === 'wide', withNamespace: allNs, noHeaders: flags['no-headers'] }));
    }
    for (const e of errors) this.printError(e);
    if (errors.length > 0) { await watching?.client.close(); this.exit(1); }
    if (!watching) return;
    const reqs = flags.selector ? parseSelector(flags.selector) : [];
    const since = Math.max(0, ...objects.map((o) => Number(o.metadata.resourceVersion ?? 0)));
    const print = (ev: WatchEvent) => {
      const o = ev.object;
      if (ev.revision <= since || (names.length > 0 && !names.includes(o.metadata.name))) return;
      if (ev.type !== 'DELETED' && !matches(reqs, o.metadata.labels)) return;
      if (output === 'json' || output === 'yaml') this.out(renderStructured(output, [o], true));
      else if (output === 'name') this.out(toNames(kind, [o]));
      else this.out(renderObjects(kind, [o], { wide: output === 'wide', withNamespace: allNs, noHeaders: true }));
    };
    await watching.run(print);
  }
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

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  return (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name);
}
