import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient, type Api } from '../../client';
import { CliError } from '../../errors';
import { toJson, toYaml } from '../../output/format';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { openPayloadStore, type PayloadStore } from '../../../bus/workflow-payloads';
import { MAX_INLINE_PAYLOAD_BYTES } from '../../../messages/workflow/limits';
import {
  groupNotFound, inputByReference, inputObjectKey, MAX_RUN_INPUT_BYTES, newRun, parseRunInput, readRunFile, runFailureLine, runName, runProgressLine,
} from '../../workflow-run';
import { waitForRun } from '../../workflow-wait';
import { DEFAULT_NAMESPACE, isAlreadyExists, isNotFound, WorkflowKind, type WorkflowJsonValue, type WorkflowRunObject, type WorkflowSpec } from '../../../messages';

/** The text of `--input-file` (`-`: stdin), refused past MAX_RUN_INPUT_BYTES before it is all read. */
function readInputFile(file: string): string {
  try {
    if (file === '-') return fs.readFileSync(0, 'utf8');
    const size = fs.statSync(file).size;
    if (size > MAX_RUN_INPUT_BYTES) throw new CliError(`${file} is ${size} bytes: a run's input may be at most ${MAX_RUN_INPUT_BYTES} bytes`);
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** How long `--wait` waits by default (s). */
export const DEFAULT_RUN_WAIT_SECONDS = 300;

/** How many names are tried when a generated one is taken (five random characters rarely collide twice). */
const NAME_TRIES = 5;

/**
 * `mk workflow run NAME` starts a run of the Workflow NAME (a WorkflowRun named
 * `NAME-<5 random characters>` with `workflowRef`), after checking that the Workflow exists;
 * `mk workflow run -f FILE` starts one of the workflow in FILE (MiniK8s's text language, or a
 * Workflow manifest), carrying its spec inline. Prints `workflowrun.mk.io/<run> created` (or the
 * run with -o). With `--wait` it follows the run to its end: the output JSON is the last line on
 * stdout and the exit code 0 when it succeeded; `Error: run <run> <phase>: <error>: <cause>` on
 * stderr and exit 1 when it did not, or when the wait timed out (the run goes on).
 */
export default class WorkflowRun extends MkCommand {
  static override summary = 'Start a run of a workflow, and optionally wait for its output';
  static override examples = [
    '<%= config.bin %> workflow run check-order --input \'{"amount":120}\'',
    '<%= config.bin %> workflow run check-order --input 42 --wait',
    '<%= config.bin %> workflow run -f examples/workflows/encryption.txt -n encryption --input hello --wait',
  ];
  static override args = {
    name: Args.string({ description: 'the Workflow to run (or give -f FILE)', required: false }),
  };
  static override flags = {
    ...namespaceFlags,
    filename: Flags.string({
      char: 'f',
      description: 'run the workflow in this file instead: MiniK8s\'s text language, or a Workflow manifest (.yaml, .yml, .json)',
    }),
    input: Flags.string({ description: 'the run\'s input: JSON, or else taken as a string (default: {})', exclusive: ['input-file'] }),
    'input-file': Flags.string({ description: 'read the input from this file (- for stdin); one over 1 MiB is kept in the object store and the run refers to it' }),
    wait: Flags.boolean({ description: 'wait for the run to end; print its output as the last line (exit 1 when it did not succeed)' }),
    timeout: Flags.integer({ description: `with --wait: seconds to wait (default: ${DEFAULT_RUN_WAIT_SECONDS}); the run goes on after`, min: 1, dependsOn: ['wait'] }),
    output: Flags.string({ char: 'o', description: 'print the run created instead of `workflowrun.mk.io/NAME created`', options: ['name', 'json', 'yaml'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WorkflowRun);
    if (args.name && flags.filename) throw new CliError('give either a Workflow\'s name or -f FILE, not both');
    if (!args.name && !flags.filename) throw new CliError('give the Workflow to run: mk workflow run NAME, or mk workflow run -f FILE');
    const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
    const inputFile = flags['input-file'];
    const input = inputFile !== undefined ? parseRunInput(readInputFile(inputFile), inputFile) : parseRunInput(flags.input);
    // Read and compiled before connecting: a bad file creates nothing.
    const file = flags.filename ? readRunFile(flags.filename) : undefined;
    const code = await withClient(this.dataDir(flags['data-dir']), async (client) => {
      let what: { workflowRef: string } | { workflow: WorkflowSpec };
      let base: string;
      if (file) {
        what = { workflow: file.spec };
        base = file.base;
      } else {
        const wf = args.name!;
        await client.api.get(WorkflowKind, namespace, wf).catch((e: unknown) => {
          throw isNotFound(e) ? groupNotFound(WorkflowKind, wf) : e;
        });
        what = { workflowRef: wf };
        base = wf;
      }
      const payloads = inputByReference(input) || flags.wait ? await openPayloadStore(client.bus.nc).catch((e: unknown) => {
        if (!inputByReference(input)) return undefined;
        throw new CliError(`the input is over ${MAX_INLINE_PAYLOAD_BYTES} bytes and the payload bucket cannot be opened: ${(e as Error).message}`);
      }) : undefined;
      const created = await this.create(client.api, base, namespace, what, input, payloads);
      this.printCreated(created, flags.output);
      if (!flags.wait) return 0;
      const name = created.metadata.name;
      const timeoutS = flags.timeout ?? DEFAULT_RUN_WAIT_SECONDS;
      let shown = '';
      const progress = process.stderr.isTTY ? (r: WorkflowRunObject) => {
        const line = runProgressLine(r);
        if (line !== shown) this.err(line);
        shown = line;
      } : undefined;
      const ended = await waitForRun(client, namespace, name, timeoutS * 1000, progress);
      if (ended.type === 'deleted') {
        this.err(`Error: run ${name} was deleted before it ended`);
        return 1;
      }
      if (ended.type === 'timeout') {
        const phase = ended.run?.status?.phase ?? 'Pending';
        this.err(`Error: timed out after ${timeoutS} s waiting for run ${name} (still ${phase}); it goes on: mk get workflowrun ${name} -n ${namespace}`);
        return 1;
      }
      const st = ended.run.status ?? {};
      if (st.phase !== 'Succeeded') {
        this.err(runFailureLine(ended.run));
        return 1;
      }
      // An output over the inline limit is in the payload bucket.
      if (st.output === undefined && st.outputRef && !payloads) {
        this.err(`Error: run ${name} Succeeded, but its output in ${st.outputRef.bucket}/${st.outputRef.key} cannot be read: the payload bucket did not open`);
        return 1;
      }
      const output = st.output === undefined && st.outputRef ? await payloads!.get(st.outputRef) : st.output;
      this.out(`${JSON.stringify(output ?? null)}\n`);
      return 0;
    });
    if (code !== 0) this.exit(code);
  }

  /** Creates the run under a generated name, trying another name when one is taken. */
  private async create(api: Api, base: string, namespace: string,
    what: { workflowRef: string } | { workflow: WorkflowSpec }, input: WorkflowJsonValue, payloads: PayloadStore | undefined): Promise<WorkflowRunObject> {
    for (let attempt = 1; ; attempt++) {
      const name = runName(base);
      const ref = inputByReference(input) ? await payloads!.put(inputObjectKey(namespace, name, randomUUID()), input) : undefined;
      const run = newRun(name, namespace, what, input, ref);
      try {
        return (await api.create({ object: run, namespace })).object as WorkflowRunObject;
      } catch (e) {
        if (!isAlreadyExists(e) || attempt >= NAME_TRIES) throw e;
      }
    }
  }

  /** kubectl's habit: `kind.group/name created`, the name alone, or the object. */
  private printCreated(run: WorkflowRunObject, output: string | undefined): void {
    if (output === 'json') this.out(toJson(run));
    else if (output === 'yaml') this.out(toYaml(run));
    else if (output === 'name') this.out(`workflowrun.mk.io/${run.metadata.name}\n`);
    else this.out(`workflowrun.mk.io/${run.metadata.name} created\n`);
  }
}
