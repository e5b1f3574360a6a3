import { randomUUID } from 'node:crypto';
import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { decode, encode, request, withClient, type Client } from '../client';
import { findPodTarget, type PodTarget } from '../pod-target';
import type { LogsChunk, LogsRequest } from '../../messages';
import { MAX_LOGS_REPLY_BYTES } from '../../messages/api';
import { logsCancelSubject, logsStreamSubject, nodeSubject } from '../../messages/subjects';

/**
 * `mk logs POD [-c C] [-f] [--previous] [--tail N]`: asks the pod's node agent for the container's
 * log (mk.node.<node>.logs). With -f the agent streams chunks on mk.node.<node>.logs.stream.<id>
 * until `eof` or Ctrl-C, which publishes on the stream's cancel subject.
 */
export default class Logs extends MkCommand {
  static override summary = 'Print the logs of a container in a pod';
  static override examples = ['<%= config.bin %> logs demo', '<%= config.bin %> logs -f demo -c web --tail 20'];
  static override args = { pod: Args.string({ description: 'pod name (or pod/NAME)', required: true }) };
  static override flags = {
    ...namespaceFlags,
    container: Flags.string({ char: 'c', description: 'container name (default: the first, with a note)' }),
    follow: Flags.boolean({ char: 'f', description: 'stream the log until the container stops or Ctrl-C', default: false }),
    previous: Flags.boolean({ char: 'p', description: 'the log of the previous, terminated instance', default: false }),
    tail: Flags.integer({ description: 'lines from the end to show (-1: all)', default: -1, min: -1 }),
  };

  /** Writes the log to stdout. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    const name = args.pod.replace(/^(pods?|po)\//, '');
    const namespace = flags.namespace || 'default';
    await withClient(this.dataDir(flags['data-dir']), async (client) => {
      const target = await findPodTarget(client.api, namespace, name, flags.container);
      if (target.note) this.err(target.note);
      const req: LogsRequest = {
        namespace, pod: name, container: target.container,
        ...(flags.previous ? { previous: true } : {}), ...(flags.tail >= 0 ? { tailLines: flags.tail } : {}),
      };
      if (flags.follow) {
        await follow(client, target, req, (b) => this.write(b));
      } else {
        const chunk = await request<LogsChunk>(client.bus, nodeSubject(target.node, 'logs'), req, { timeoutMs: 30_000 });
        if (chunk.truncated) this.err(`Warning: the log is longer than one reply carries; showing its last ${MAX_LOGS_REPLY_BYTES / 2 ** 20} MiB (use --tail)`);
        await this.write(Buffer.from(chunk.data ?? '', 'base64'));
      }
    });
  }

  private write(b: Buffer): Promise<void> {
    return new Promise((resolve) => (b.length === 0 ? resolve() : process.stdout.write(b, () => resolve())));
  }
}

/**
 * Streams a log: subscribes to the stream's subject first, then asks the node (whose answer, or
 * error, comes back as a reply), and writes chunks until `eof`. SIGINT publishes the cancel and
 * ends cleanly. Errors come as the classes of messages/errors (UnavailableError when no agent serves
 * the node).
 */
async function follow(client: Client, target: PodTarget, base: LogsRequest, write: (b: Buffer) => Promise<void>): Promise<void> {
  const { nc } = client.bus;
  const streamId = randomUUID();
  const sub = nc.subscribe(logsStreamSubject(target.node, streamId));
  const onSigint = (): void => {
    nc.publish(logsCancelSubject(target.node, streamId), encode({ streamId }));
    sub.unsubscribe();
  };
  process.once('SIGINT', onSigint);
  try {
    await nc.flush();
    const first = await request<LogsChunk>(client.bus, nodeSubject(target.node, 'logs'), { ...base, follow: { streamId } } satisfies LogsRequest, { timeoutMs: 30_000 });
    if (first.data) await write(Buffer.from(first.data, 'base64'));
    for await (const m of sub) {
      const chunk = decode<LogsChunk>(m.data);
      if (chunk?.data) await write(Buffer.from(chunk.data, 'base64'));
      if (chunk?.eof) break;
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (!sub.isClosed()) sub.unsubscribe();
  }
}
