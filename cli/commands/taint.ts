import { Args, Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { withClient } from '../client';
import { CliError } from '../errors';
import { applyTaintChanges, checkNodeTarget, isTaintSpec, parseTaintSpecs, resolveNodes, updateNode } from '../node-ops';
import { resolveKind } from '../../messages/registry';

/**
 * `mk taint nodes NODE... KEY=VALUE:EFFECT | KEY:EFFECT | KEY:EFFECT- | KEY-` (or `-l SELECTOR`
 * instead of names): adds and removes taints on nodes, as kubectl taint does. A taint with the same key and effect as one already there
 * is refused unless --overwrite; removing a taint that is not there is an error. Nothing is
 * written when a spec is invalid.
 */
export default class Taint extends MkCommand {
  static override summary = 'Update the taints on one or more nodes';
  static override examples = [
    '<%= config.bin %> taint nodes n1 dedicated=gpu:NoSchedule',
    '<%= config.bin %> taint nodes n1 dedicated=cpu:NoSchedule --overwrite',
    '<%= config.bin %> taint nodes n1 dedicated:NoSchedule-',
    '<%= config.bin %> taint nodes n1 dedicated-',
  ];
  static override args = {
    kind: Args.string({ description: 'nodes (node, no)', required: true }),
    rest: Args.string({ description: 'node names, then taint specs' }),
  };
  static override flags = {
    overwrite: Flags.boolean({ description: 'replace a taint that has the same key and effect', default: false }),
    selector: Flags.string({ char: 'l', description: 'the nodes matching this label selector, instead of names' }),
  };
  static override strict = false;

  /** Taints each node; exit 1 on a bad spec (before any write) or when a node fails. */
  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(Taint);
    if (resolveKind(args.kind)?.plural !== 'nodes') throw new CliError(`taints are for nodes only: mk taint nodes NODE KEY=VALUE:EFFECT (got "${args.kind}")`);
    const rest = (argv as string[]).slice(1);
    const first = rest.findIndex(isTaintSpec);
    const nodes = first < 0 ? rest : rest.slice(0, first);
    const specs = first < 0 ? [] : rest.slice(first);
    checkNodeTarget(nodes, flags.selector);
    if (specs.length === 0) throw new CliError('at least one taint update is required: KEY=VALUE:EFFECT to add, KEY:EFFECT- or KEY- to remove');
    const stray = specs.find((s) => !isTaintSpec(s));
    if (stray) throw new CliError(`"${stray}" comes after a taint spec: give the node names first, then the taints`);
    const changes = parseTaintSpecs(specs);
    let code = 0;
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      const targets = await resolveNodes(api, nodes, flags.selector);
      if (targets.length === 0) this.err('No resources found');
      for (const name of targets) {
        try {
          let verb = 'tainted';
          await updateNode(api, name, (n) => {
            const r = applyTaintChanges(n, changes, flags.overwrite);
            verb = r.verb;
            n.spec = { ...n.spec, taints: r.taints };
            if (r.taints.length === 0) delete n.spec.taints;
            return true;
          });
          this.out(`node/${name} ${verb}\n`);
        } catch (e) {
          code = 1;
          this.printError(e);
        }
      }
    });
    if (code !== 0) this.exit(code);
  }
}
