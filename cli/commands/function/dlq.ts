import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { CliError } from '../../errors';
import { gatewayRequest, renderDeadLetters } from '../../function-async';
import { toJson, toYaml } from '../../output/format';
import { DEFAULT_NAMESPACE, DLQ_LIST_SUBJECT, DLQ_REPLAY_SUBJECT, type DeadLetter } from '../../../messages';

/**
 * `mk function dlq [NAME]`: the dead letters, async calls that failed every try (of one function,
 * or of all with no name), oldest first. `mk function dlq replay ID` (or `--replay ID`) queues one
 * again under its id, with a fresh set of tries, and takes it out of the dead letters.
 */
export default class FunctionDlq extends MkCommand {
  static override summary = 'List the async calls that failed every try, or replay one';
  static override examples = [
    '<%= config.bin %> function dlq',
    '<%= config.bin %> function dlq add -o json',
    '<%= config.bin %> function dlq replay 0b7c5a3e-...',
  ];
  static override args = {
    name: Args.string({ description: 'a Function whose dead letters to list (all when omitted); `replay` to replay the ID that follows' }),
    id: Args.string({ description: 'with `replay`: the id of the dead letter to queue again' }),
  };
  static override flags = {
    ...namespaceFlags,
    output: Flags.string({ char: 'o', description: 'output format', options: ['json', 'yaml'] }),
    replay: Flags.string({ description: 'queue the dead letter with this id again (the same as `mk function dlq replay ID`)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(FunctionDlq);
    const dataDir = this.dataDir(flags['data-dir']);
    const replayId = flags.replay ?? (args.name === 'replay' && args.id ? args.id : undefined);
    if (replayId) {
      await withClient(dataDir, ({ bus }) => gatewayRequest(bus, DLQ_REPLAY_SUBJECT, { id: replayId }));
      this.out(`async call ${replayId} queued again\n`);
      return;
    }
    if (args.id) throw new CliError(`unexpected argument "${args.id}": use mk function dlq [NAME] or mk function dlq replay ID`);
    const filter = args.name ? { namespace: flags.namespace ?? DEFAULT_NAMESPACE, name: args.name } : flags.namespace ? { namespace: flags.namespace } : {};
    const reply = await withClient(dataDir, ({ bus }) => gatewayRequest(bus, DLQ_LIST_SUBJECT, filter));
    const items = (reply.body as { items: DeadLetter[] }).items;
    if (flags.output === 'json' || flags.output === 'yaml') {
      const value = { items };
      this.out(flags.output === 'json' ? toJson(value) : toYaml(value));
      return;
    }
    if (items.length === 0) {
      this.err('No dead letters found.');
      return;
    }
    this.out(renderDeadLetters(items));
  }
}
