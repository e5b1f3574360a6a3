import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { discoverProcesses, fetchTree, type ActorRow, type ProcessTree } from '../actors';
import { withClient } from '../client';
import { CliError } from '../errors';
import { toJson, toYaml } from '../output/format';
import { ACTOR_SORT_KEYS, renderActors, sortActors, type ActorSortKey } from '../output/actors';

/**
 * `mk actors`: the supervision trees of the cluster's processes (each control plane, each node
 * agent) as their actor telemetry reports them: every actor's path, kind, the object it keeps,
 * its mailbox, messages a second, p99 handling time, restarts and last crash. mk's own machinery
 * (supervisors, api, scheduler) is hidden unless `--system`. Without `--process` it listens for
 * the processes that publish (about 1.5 s).
 */
export default class Actors extends MkCommand {
  static override summary = 'List the actors of the cluster\'s processes, with their load and crashes';
  static override examples = [
    '<%= config.bin %> actors',
    '<%= config.bin %> actors --sort-by mailbox --system',
    '<%= config.bin %> actors --process node-n1 --kind pod -o json',
  ];
  static override flags = {
    process: Flags.string({ char: 'p', multiple: true, description: 'only this process (`cp-<id>`, `node-<node>`); repeatable' }),
    kind: Flags.string({ char: 'k', description: 'only actors of this kind (`pod`, `node`, `scheduler`, ...)' }),
    system: Flags.boolean({ description: 'show mk\'s own machinery too (supervisors, api, scheduler)', default: false }),
    'sort-by': Flags.string({ description: 'order: path, or largest first by mailbox, rate, p99 or restarts', options: [...ACTOR_SORT_KEYS], default: 'path' }),
    'no-headers': Flags.boolean({ description: 'do not print headers', default: false }),
    output: Flags.string({ char: 'o', description: 'output format', options: ['wide', 'json', 'yaml'] }),
  };

  /** Prints the table (or the trees); exit 1 when no process answers. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Actors);
    await withClient(this.dataDir(flags['data-dir']), async (client) => {
      const processes = flags.process?.length ? flags.process : await discoverProcesses(client);
      if (processes.length === 0) {
        throw new CliError('no process publishes actor telemetry (is the cluster up? MK_ACTOR_TELEMETRY=off turns it off)');
      }
      const trees: ProcessTree[] = [];
      for (const p of processes) trees.push(await fetchTree(client, p));
      const keep = (a: ActorRow): boolean => (flags.system || !a.system) && (!flags.kind || a.kind === flags.kind);
      if (flags.output === 'json' || flags.output === 'yaml') {
        const value = { processes: trees.map((t) => ({ ...t, actors: t.actors.filter(keep) })) };
        this.out(flags.output === 'json' ? toJson(value) : toYaml(value));
        return;
      }
      const rows = sortActors(trees.flatMap((t) => t.actors.filter(keep)), flags['sort-by'] as ActorSortKey);
      if (rows.length === 0) {
        this.err(`No actors found${flags.system ? '' : ' (mk\'s own machinery is hidden: --system shows it)'}.`);
        return;
      }
      this.out(renderActors(rows, { noHeaders: flags['no-headers'], wide: flags.output === 'wide' }));
    });
  }
}
