import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { decode, withClient } from '../../client';
import { CliError } from '../../errors';
import { gatewayRequest } from '../../function-async';
import { asyncInvokeSubject, DEFAULT_NAMESPACE, functionInvokeSubject, type AsyncSubmit, type InvokeReply } from '../../../messages';

/**
 * The CLI's default wait for an answer (s): a gateway may hold a call up to the function's
 * timeout waiting for a free instance, then let the instance run it up to the timeout again
 * (900 s at most each), plus 30 s for the bus and a cold start's listing.
 */
export const DEFAULT_INVOKE_TIMEOUT_SECONDS = 2 * 900 + 30;

/**
 * `mk function invoke NAME --data JSON`: calls the function through a gateway over NATS
 * (request/reply on mk.fn.invoke.<ns>.<name>) and prints its result as JSON. A 4xx or 5xx answer
 * (unknown function, bad input, the handler threw, timeout) prints its error and exits 1.
 * With `--async` the call is queued instead (mk.fn.async-invoke.<ns>.<name>) and the command
 * prints the call's id at once; `mk function result ID` shows how it went.
 */
export default class FunctionInvoke extends MkCommand {
  static override summary = 'Call a function and print its result';
  static override examples = [
    '<%= config.bin %> function invoke add --data \'{"a":1,"b":2}\'',
    '<%= config.bin %> function invoke add --async --data \'{"a":1,"b":2}\' --callback http://127.0.0.1:9000/done',
  ];
  static override args = {
    name: Args.string({ description: 'the name of the Function', required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    data: Flags.string({ char: 'd', description: 'the event, as JSON (null when omitted)' }),
    timeout: Flags.integer({
      description: `seconds to wait for the answer (default: ${DEFAULT_INVOKE_TIMEOUT_SECONDS}: a call may wait up to its timeout for an instance, then run up to its timeout, 900 s each at most)`,
      min: 1,
    }),
    async: Flags.boolean({ description: 'queue the call and print its id (see mk function result ID); retried up to 3 times on failure' }),
    id: Flags.string({ description: 'with --async: the call\'s id; the same id again within 10 minutes is the same call (default: a random UUID)', dependsOn: ['async'] }),
    callback: Flags.string({ description: 'with --async: an http(s) URL the final result is POSTed to', dependsOn: ['async'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(FunctionInvoke);
    const dataDir = this.dataDir(flags['data-dir']);
    const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
    const data = flags.data ?? 'null';
    try {
      JSON.parse(data);
    } catch (err) {
      throw new CliError(`--data is not valid JSON: ${(err as Error).message}`);
    }
    if (flags.async) {
      const submit: AsyncSubmit = { body: data, ...(flags.id ? { id: flags.id } : {}), ...(flags.callback ? { callback: flags.callback } : {}) };
      const queued = await withClient(dataDir, ({ bus }) => gatewayRequest(bus, asyncInvokeSubject(namespace, args.name), submit));
      this.out(`${(queued.body as { id: string }).id}\n`);
      return;
    }
    const reply = await withClient(dataDir, async ({ bus }) => {
      const subject = functionInvokeSubject(namespace, args.name);
      try {
        const msg = await bus.nc.request(subject, new TextEncoder().encode(data), { timeout: (flags.timeout ?? DEFAULT_INVOKE_TIMEOUT_SECONDS) * 1000 });
        return decode<InvokeReply>(msg.data);
      } catch (err) {
        const text = (err as Error).message;
        if (/no responders|503/i.test(text)) throw new CliError(`nothing is serving ${subject}: is the function gateway running?`);
        throw new CliError(`calling ${subject} failed: ${text}`);
      }
    });
    if (reply.status >= 400) {
      const body = reply.body as { error?: string; trace?: string } | null;
      const message = body && typeof body.error === 'string' ? body.error : JSON.stringify(reply.body);
      throw new CliError(`Error (${reply.status}): ${message}${body?.trace ? `\n${body.trace.trimEnd()}` : ''}`);
    }
    this.out(`${JSON.stringify(reply.body)}\n`);
  }
}
