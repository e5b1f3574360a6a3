import { Args, Flags } from '@oclif/core';
import { MkCommand } from '../../base-command';
import { withClient } from '../../client';
import { gatewayRequest, renderAsyncResult } from '../../function-async';
import { toJson, toYaml } from '../../output/format';
import { RESULTS_GET_SUBJECT, type AsyncResult } from '../../../messages';

/**
 * `mk function result ID`: where an async call stands (Pending, Running, Succeeded, Failed), its
 * tries, and its result or last error, as a gateway reads it from the results bucket
 * (mk.fn.results.get). Results are kept 24 h; an unknown id exits 1 with a message saying so.
 */
export default class FunctionResult extends MkCommand {
  static override summary = 'Show the status and result of an async function call';
  static override examples = [
    '<%= config.bin %> function invoke add --async --data \'{"a":1,"b":2}\'   # prints the id',
    '<%= config.bin %> function result 0b7c5a3e-...',
    '<%= config.bin %> function result 0b7c5a3e-... -o json',
  ];
  static override args = {
    id: Args.string({ description: 'the id `mk function invoke --async` printed (or the X-Mk-Idempotency-Key given)', required: true }),
  };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'output format', options: ['json', 'yaml'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(FunctionResult);
    const reply = await withClient(this.dataDir(flags['data-dir']), ({ bus }) => gatewayRequest(bus, RESULTS_GET_SUBJECT, { id: args.id }));
    const r = reply.body as AsyncResult;
    if (flags.output === 'json' || flags.output === 'yaml') this.out(flags.output === 'json' ? toJson(r) : toYaml(r));
    else this.out(renderAsyncResult(r));
  }
}
