/**
 * What `mk describe` does once its command line is read: fetch the objects (and what their
 * descriptions show: related objects, events) and print one description per object. Both the
 * oclif command (cli/commands/describe.ts) and the fast path (cli/fast-path.ts) run it, so this
 * module and what it imports stay free of oclif, zod, js-yaml, the JetStream client and the
 * logger: test/unit/cli/startup.test.ts checks it.
 */
import { resolveDataDir } from '../embedded/context';
import type { EventLike, KubeObject } from '../messages';
import { withClient, type Api } from './client';
import { namespaceFor, parseTargets } from './kinds';
import { renderDescription } from './output/describe';
import { err, out, printError } from './output/io';

/** `mk describe`'s parsed command line (the `args` and `flags` of cli/commands/describe.ts). */
export interface DescribeInput {
  args: { kind: string; names?: string[] };
  flags: { 'data-dir'?: string; namespace?: string };
}

/**
 * Prints one description per object, separated by a blank line (every object of the kind in the
 * namespace when no names are given). Resolves with the exit code: 1 when a named object is
 * missing (reported after the others), else 0. Throws CliError for an unknown kind, and the bus's
 * errors (UnavailableError, ...).
 */
export async function describeObjects({ args, flags }: DescribeInput): Promise<number> {
  const { kind, names } = parseTargets(args.kind, args.names ?? []);
  const namespace = namespaceFor(kind, flags.namespace);
  const errors: unknown[] = [];
  await withClient(resolveDataDir(flags['data-dir']), async ({ api }) => {
    let objects: KubeObject[] = [];
    if (names.length === 0) {
      objects = await api.list(kind, namespace);
      if (objects.length === 0) err(kind.namespaced ? `No resources found in ${namespace} namespace.` : 'No resources found');
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
    out(texts.join('\n\n'));
  });
  for (const e of errors) printError(e);
  return errors.length > 0 ? 1 : 0;
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
