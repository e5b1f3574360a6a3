import { Args } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient, type Api } from '../client';
import { namespaceFor, parseTargets } from '../kinds';
import { describeNamespace, describeNode } from '../output/describe-node';
import { describePod } from '../output/describe-pod';
import type { EventLike } from '../output/describe-writer';
import type { KindInfo, KubeObject, Namespace, Node, Pod } from '../../messages';

/**
 * `mk describe KIND [NAME...]`: kubectl's describe sections for pods, nodes and namespaces. Without
 * names it describes every object of the kind in the namespace.
 */
export default class Describe extends MkCommand {
  static override summary = 'Show details of an object or group of objects';
  static override examples = ['<%= config.bin %> describe pod demo', '<%= config.bin %> describe nodes'];
  static override args = {
    kind: Args.string({ description: 'kind: pods (po), nodes (no), namespaces (ns); or KIND/NAME', required: true }),
    names: Args.string({ description: 'object names', multiple: true }),
  };
  static override flags = { ...namespaceFlags };

  /** Prints one description per object, separated by a blank line; exit 1 when one is missing. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Describe);
    const { kind, names } = parseTargets(args.kind, args.names ?? []);
    const namespace = namespaceFor(kind, flags.namespace);
    const errors: unknown[] = [];
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      let objects: KubeObject[] = [];
      if (names.length === 0) {
        objects = await api.list(kind, namespace);
        if (objects.length === 0) this.err(kind.namespaced ? `No resources found in ${namespace} namespace.` : 'No resources found');
      } else {
        for (const name of names) {
          try {
            objects.push(await api.get(kind, namespace, name));
          } catch (e) {
            errors.push(e);
          }
        }
      }
      const texts: string[] = [];
      for (const o of objects) texts.push(await describeOne(api, kind, o));
      this.out(texts.join('\n\n'));
    });
    for (const e of errors) this.printError(e);
    if (errors.length > 0) this.exit(1);
  }
}

async function describeOne(api: Api, kind: KindInfo, o: KubeObject): Promise<string> {
  switch (kind.kind) {
    case 'Pod':
      return describePod(o as Pod, await eventsFor(api, o));
    case 'Node': {
      const pods = await api.list('pods').catch(() => [] as KubeObject[]);
      const mine = (pods as Pod[]).filter((p) => p.spec?.nodeName === o.metadata.name);
      return describeNode(o as Node, mine, await eventsFor(api, o));
    }
    case 'Namespace':
      return describeNamespace(o as Namespace);
    default:
      return `Name:         ${o.metadata.name}\n`;
  }
}

/** The object's events, if the api serves an `events` kind; undefined (shown as `<none>`) otherwise. */
async function eventsFor(api: Api, o: KubeObject): Promise<EventLike[] | undefined> {
  try {
    const field = o.metadata.uid ? `involvedObject.uid=${o.metadata.uid}` : `involvedObject.name=${o.metadata.name}`;
    const items = (await api.list('events', o.metadata.namespace, undefined, field)) as unknown as (EventLike & {
      involvedObject?: { kind?: string; name?: string; uid?: string };
    })[];
    return items
      .filter((e) => e.involvedObject?.name === o.metadata.name && (!e.involvedObject.kind || e.involvedObject.kind === o.kind)
        && (!e.involvedObject.uid || !o.metadata.uid || e.involvedObject.uid === o.metadata.uid))
      .sort((a, b) => (a.lastTimestamp ?? a.eventTime ?? '').localeCompare(b.lastTimestamp ?? b.eventTime ?? ''));
  } catch {
    return undefined;
  }
}
