import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { request, withClient } from '../../client';
import { resolveKind } from '../../../messages/registry';
import { DEFAULT_NAMESPACE, FUNCTION_LABEL, type LogsChunk, type LogsRequest, type Pod } from '../../../messages';
import { nodeSubject } from '../../../messages/subjects';

/** The container of an instance pod (actors/function/instance-pod.ts). */
const CONTAINER = 'function';

/**
 * `mk function logs NAME [--tail N]`: the logs of every instance of a function, each line prefixed
 * with its pod as `kubectl logs -l ... --prefix` does (`[pod/add-x7k2p/function] ...`), one pod
 * after another, oldest pod first. A function scaled to zero has no instance and so no log: that
 * is said on stderr, and the exit code is 0. An unknown function is an error.
 */
export default class FunctionLogs extends MkCommand {
  static override summary = 'Print the logs of a function\'s instances';
  static override examples = ['<%= config.bin %> function logs add', '<%= config.bin %> function logs add --tail 20'];
  static override args = { name: Args.string({ description: 'the name of the Function', required: true }) };
  static override flags = {
    ...namespaceFlags,
    tail: Flags.integer({ description: 'lines from the end of each instance\'s log (-1: all)', default: -1, min: -1 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(FunctionLogs);
    const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
    await withClient(this.dataDir(flags['data-dir']), async ({ api, bus }) => {
      // Throws NotFoundError (exit 1, kubectl's words) for an unknown function.
      await api.get(resolveKind('functions')!, namespace, args.name);
      const pods = (await api.list(resolveKind('pods')!, namespace, `${FUNCTION_LABEL}=${args.name}`) as unknown as Pod[])
        .filter((p) => p.spec.nodeName)
        .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name));
      if (pods.length === 0) {
        this.err(`function "${args.name}" has no running instance (scaled to zero, or not started yet): no log to show`);
        return;
      }
      for (const pod of pods) {
        const req: LogsRequest = { namespace, pod: pod.metadata.name, container: CONTAINER, ...(flags.tail >= 0 ? { tailLines: flags.tail } : {}) };
        let text: string;
        try {
          const chunk = await request<LogsChunk>(bus, nodeSubject(pod.spec.nodeName!, 'logs'), req, { timeoutMs: 30_000 });
          text = Buffer.from(chunk.data ?? '', 'base64').toString('utf8');
        } catch (err) {
          // An instance going away meanwhile (scaled down) is no failure of the others.
          this.err(`pod/${pod.metadata.name}: ${(err as Error).message}`);
          continue;
        }
        const prefix = `[pod/${pod.metadata.name}/${CONTAINER}] `;
        const lines = text.split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        if (lines.length) this.out(lines.map((l) => prefix + l).join('\n') + '\n');
      }
    });
  }
}
