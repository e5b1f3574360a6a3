import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { appliedConfiguration, applyObject } from '../../apply-merge';
import { CliError } from '../../errors';
import { checkSyntax, packCode, packWithDependencies, uploadCode } from '../../function-code';
import { dryRunFlag, dryRunSuffix, type DryRun } from '../../dry-run';
import type { PackedCode } from '../../../bus/code-archive';
import { DEFAULT_NAMESPACE, FunctionKind, resourceName, validateManifest, type FunctionEnvVar } from '../../../messages';
import { parseDuration } from '../../../messages/duration';

/** A duration flag (`60s`, `2m`) in whole seconds, rounded up. Throws ValidationError naming the flag. */
function seconds(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : Math.ceil(parseDuration(text, flag) / 1000);
}

/** `--env K=V` flags as env entries, in order; a later one of the same name wins. Throws CliError for one without `=`. */
function envVars(flags: string[] | undefined): FunctionEnvVar[] | undefined {
  if (!flags?.length) return undefined;
  const byName = new Map<string, string>();
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid --env ${f}: expected NAME=VALUE`);
    byName.delete(f.slice(0, eq));
    byName.set(f.slice(0, eq), f.slice(eq + 1));
  }
  return [...byName].map(([name, value]) => ({ name, value }));
}

/**
 * `mk function deploy NAME`: packs the code, checks that it parses (python3 -m py_compile, node
 * --check, where this machine has the interpreter, on the files checkSyntax picks), uploads it
 * to the code bucket when the bucket lacks it, and creates or updates the Function as `mk apply` would (the flags are the whole
 * configuration: a flag left out goes back to its default). A code directory's requirements.txt
 * (python3) or package.json dependencies (node) are installed into a copy first, unless
 * `--no-deps` (cli/function-deps.ts). Prints `function.mk.io/NAME created|configured|unchanged`.
 * Bad code or flags, or dependencies that do not install, upload and change nothing; a dry run
 * installs and uploads nothing.
 */
export default class FunctionDeploy extends MkCommand {
  static override summary = 'Upload a function\'s code and create or update the Function';
  static override examples = [
    '<%= config.bin %> function deploy add --runtime python3 --handler add.handler -f examples/functions/add.py',
    '<%= config.bin %> function deploy add --runtime python3 --command "python add.py" -f examples/functions/',
    '<%= config.bin %> function deploy hello --runtime node --handler index.handler -f ./hello --env GREETING=hi --max 3 --timeout 30s',
    '<%= config.bin %> function deploy stats --runtime python3 --handler main.handler -f ./stats   # installs ./stats/requirements.txt',
  ];
  static override args = {
    name: Args.string({ description: 'the name of the Function', required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    runtime: Flags.string({ description: 'the language of the code: python3 or node', required: true }),
    handler: Flags.string({ description: 'the function to call, <module>.<function> (add.handler: handler in add.py or add.js)', exclusive: ['command'] }),
    command: Flags.string({ description: 'a command run for each call instead (python add.py): the input as its arguments, its stdout the result', exclusive: ['handler'] }),
    filename: Flags.string({ char: 'f', description: 'the code: a file or a directory', required: true }),
    env: Flags.string({ description: 'an environment variable, NAME=VALUE (repeatable)', multiple: true }),
    timeout: Flags.string({ description: 'how long one call may run (60s when omitted, at most 15m)' }),
    concurrency: Flags.integer({ description: 'calls one instance serves at once (1 when omitted)' }),
    min: Flags.integer({ description: 'the fewest instances (0 when omitted: scale to zero)' }),
    max: Flags.integer({ description: 'the most instances (10 when omitted)' }),
    idle: Flags.string({ description: 'how long an instance may go without a call before it is stopped (60s when omitted)' }),
    deps: Flags.boolean({
      description: 'install a code directory\'s requirements.txt (python3) or package.json dependencies (node) before uploading; --no-deps deploys only what the directory holds',
      default: true, allowNo: true,
    }),
    ...dryRunFlag,
  };

  /** Deploys; exits 1 when the code or the flags are refused. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(FunctionDeploy);
    const dataDir = this.dataDir(flags['data-dir']);
    const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
    const dryRun = flags['dry-run'] as DryRun;
    const original = packCode(flags.filename);
    const manifest = (packed: PackedCode): ReturnType<typeof validateManifest> => {
      const spec: Record<string, unknown> = {
        runtime: flags.runtime,
        ...(flags.handler !== undefined ? { handler: flags.handler } : {}),
        ...(flags.command !== undefined ? { command: flags.command } : {}),
        code: { digest: packed.digest, size: packed.size, files: packed.files },
        env: envVars(flags.env),
        timeoutSeconds: seconds(flags.timeout, '--timeout'),
        concurrency: flags.concurrency,
        minInstances: flags.min,
        maxInstances: flags.max,
        idleSeconds: seconds(flags.idle, '--idle'),
      };
      for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
      return validateManifest({ apiVersion: FunctionKind.apiVersion, kind: FunctionKind.kind, metadata: { name: args.name, namespace }, spec });
    };
    // Flags and syntax are checked on the code as it is, before a long install.
    manifest(original);
    checkSyntax(original, { handler: flags.handler, command: flags.command });
    const packed = await packWithDependencies(flags.filename, original, {
      runtime: flags.runtime, install: flags.deps, dryRun: dryRun !== 'none', progress: (line) => this.err(line),
    });
    const { object } = manifest(packed);
    await withClient(dataDir, async ({ api, bus }) => {
      if (dryRun === 'none') await uploadCode(bus, packed, (line) => this.err(line));
      const res = await applyObject(api, FunctionKind, appliedConfiguration(object, FunctionKind, namespace), { validate: 'strict', dryRun });
      for (const w of new Set(res.warnings)) this.err(`Warning: ${w}`);
      this.out(`${resourceName(FunctionKind, args.name)} ${res.result}${dryRunSuffix(dryRun)}\n`);
    });
  }
}
