import { Args } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient, type Api } from '../client';
import { namespaceFor, parseTargets } from '../kinds';
import { renderDescription } from '../output/describe';
import { kindsHelp } from '../kinds';
import type { EventLike, KubeObject } from '../../messages';

/**
 * `mk describe KIND [NAME...]`: the kind's own describe sections (kubectl's, for pods, nodes and
 * namespaces) or the generic ones. Without names it describes every object of the kind in the
 * namespace.
 */
export default class Describe extends MkCommand {
  static override summary = 'Show details of an object or group of objects';
  static override examples = ['<%= config.bin %> describe pod demo', '<%= config.bin %> describe nodes'];
  static override args = {
    kind: Args.string({ description: `kind: ${kindsHelp()}; or KIND/NAME`, required: true }),
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
      const sources = { list: (plural: string) => api.list(plural), events: (o: KubeObject) => eventsFor(api, o) };
      for (const o of objects) texts.push(await renderDescription(kind, o, sources));
      this.out(texts.join('\n\n'));
    });
    for (const e of errors) this.printError(e);
    if (errors.length > 0) this.exit(1);
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
