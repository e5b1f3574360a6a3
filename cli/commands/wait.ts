import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { kindsHelp, namespaceFor, parseTargets } from '../kinds';
import { parseTimeout, parseWaitFor, waitObjects } from '../wait';

/**
 * `mk wait --for=condition=Complete job/NAME`: waits until objects meet a condition, are deleted
 * (`--for=delete`) or have a field's value (`--for=jsonpath={.status.phase}=Running`), watching
 * them through the api rather than polling. Prints `job.batch/NAME condition met` for each; exit 1
 * on a timeout (default 30s) or a missing object, with kubectl's message.
 */
export default class Wait extends MkCommand {
  static override summary = 'Wait for a specific condition on one or many objects';
  static override examples = [
    '<%= config.bin %> wait --for=condition=Complete job/pi --timeout=60s',
    '<%= config.bin %> wait --for=condition=Ready pod/web',
    '<%= config.bin %> wait --for=condition=Ready pods -l app=web',
    '<%= config.bin %> wait --for=delete pod/web --timeout=30s',
    '<%= config.bin %> wait --for=create job/pi',
    "<%= config.bin %> wait --for=jsonpath='{.status.phase}'=Running pod/web",
  ];
  static override args = {
    kind: Args.string({ description: `kind: ${kindsHelp()}; or KIND/NAME`, required: true }),
    names: Args.string({ description: 'object names', multiple: true }),
  };
  static override flags = {
    ...namespaceFlags,
    for: Flags.string({
      description: 'the condition: condition=NAME[=VALUE] (VALUE defaults to True), create, delete, or jsonpath={.path}[=VALUE]', required: true,
    }),
    timeout: Flags.string({ description: 'how long to wait at most (30s, 5m; 0 checks once)', default: '30s' }),
    selector: Flags.string({ char: 'l', description: 'the objects matching this label selector, instead of names' }),
    all: Flags.boolean({ description: 'every object of the kind in the namespace', default: false }),
  };

  /** Waits; exit 1 on a timeout or a missing object. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Wait);
    const want = parseWaitFor(flags.for);
    const timeoutMs = parseTimeout(flags.timeout);
    const { kind, names } = parseTargets(args.kind, args.names ?? []);
    const io = { out: (t: string) => this.out(t), err: (t: string) => this.err(t) };
    const code = await withClient(this.dataDir(flags['data-dir']), (client) => waitObjects(client, {
      kind, namespace: namespaceFor(kind, flags.namespace), names, for: want, timeoutMs,
      ...(flags.selector ? { selector: flags.selector } : {}), all: flags.all,
    }, io), { timeoutMs: Math.max(3000, Math.min(timeoutMs, 15_000)) });
    if (code !== 0) this.exit(code);
  }
}
