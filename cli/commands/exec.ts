import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { request, withClient } from '../client';
import { CliError } from '../errors';
import { findPodTarget } from '../pod-target';
import type { ExecRequest, ExecResult } from '../../messages';
import { nodeSubject } from '../../messages/subjects';

/**
 * `mk exec POD [-c C] -- CMD ARGS...`: runs the command in the container (ExecSync through the
 * pod's node agent), writes its stdout and stderr, and exits with its exit code, as kubectl does.
 */
export default class Exec extends MkCommand {
  static override summary = 'Execute a command in a container';
  static override examples = ['<%= config.bin %> exec demo -- ls /www', '<%= config.bin %> exec demo -c web -- sh -c "echo $HOSTNAME"'];
  static override args = {
    pod: Args.string({ description: 'pod name (or pod/NAME)', required: true }),
    command: Args.string({ description: 'the command and its arguments, after --', multiple: true }),
  };
  static override flags = {
    ...namespaceFlags,
    container: Flags.string({ char: 'c', description: 'container name (default: the first, with a note)' }),
    timeout: Flags.integer({ description: 'seconds the command may run', default: 300, min: 1 }),
    stdin: Flags.boolean({ char: 'i', hidden: true, default: false }),
    tty: Flags.boolean({ char: 't', hidden: true, default: false }),
  };

  /** Runs the command; the process exits with the command's exit code. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Exec);
    if (flags.stdin || flags.tty) throw new CliError('interactive exec (-i, -t) is not supported: mk runs the command to completion (ExecSync); drop -i/-t');
    const command = args.command ?? [];
    if (command.length === 0) throw new CliError('you must specify at least one command for the container (mk exec POD -- CMD ARGS...)');
    const name = args.pod.replace(/^(pods?|po)\//, '');
    const namespace = flags.namespace || 'default';
    const result = await withClient(this.dataDir(flags['data-dir']), async ({ api, bus }) => {
      const target = await findPodTarget(api, namespace, name, flags.container);
      const phase = target.pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') {
        throw new CliError(`cannot exec into a container in a completed pod; current phase is ${phase}`);
      }
      if (phase !== 'Running') throw new CliError(`pod "${name}" is not running (phase ${phase ?? 'Pending'}); cannot exec into it yet`);
      if (target.note) this.err(target.note);
      const req: ExecRequest = { namespace, pod: name, container: target.container, command, timeoutSeconds: flags.timeout };
      return request<ExecResult>(bus, nodeSubject(target.node, 'exec'), req, { timeoutMs: (flags.timeout + 10) * 1000 });
    });
    await write(process.stdout, Buffer.from(result.stdout ?? '', 'base64'));
    await write(process.stderr, Buffer.from(result.stderr ?? '', 'base64'));
    if (result.exitCode !== 0) {
      this.err(`command terminated with exit code ${result.exitCode}`);
      this.exit(result.exitCode > 0 && result.exitCode < 256 ? result.exitCode : 1);
    }
  }
}

function write(stream: NodeJS.WriteStream, b: Buffer): Promise<void> {
  return new Promise((resolve) => (b.length === 0 ? resolve() : stream.write(b, () => resolve())));
}
