import * as fs from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { loadManifestYaml } from '../../common/manifest-yaml';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { dryRunFlag, dryRunSuffix } from '../dry-run';
import { CliError } from '../errors';
import { namespaceFor, parseTargets } from '../kinds';
import { applyPatch, jsonEqual, resourceName, validateManifest, type PatchType } from '../../messages';

/**
 * `mk patch KIND NAME -p PATCH [--type strategic|merge|json]`: patches one object on the server
 * (a strategic merge patch as kubectl's default, an RFC 7386 merge patch or an RFC 6902 JSON
 * patch; written in JSON or YAML) and prints `pod/NAME patched`, or `patched (no change)`.
 */
export default class Patch extends MkCommand {
  static override summary = 'Update fields of an object with a strategic merge, merge or JSON patch';
  static override examples = [
    `<%= config.bin %> patch pod web -p '{"metadata":{"labels":{"tier":"frontend"}}}'`,
    `<%= config.bin %> patch pod web -p '{"spec":{"containers":[{"name":"web","image":"busybox:1.36"}]}}'`,
    `<%= config.bin %> patch pod web --type json -p '[{"op":"replace","path":"/spec/containers/0/image","value":"busybox:1.36"}]'`,
    `<%= config.bin %> patch pod/web --subresource status -p '{"status":{"message":"hi"}}'`,
  ];
  static override args = {
    targets: Args.string({ description: 'KIND NAME or KIND/NAME', multiple: true, required: true }),
  };
  static override flags = {
    ...namespaceFlags,
    patch: Flags.string({ char: 'p', description: 'the patch, as JSON or YAML' }),
    'patch-file': Flags.string({ description: 'a file holding the patch' }),
    type: Flags.string({
      description: 'strategic (a merge patch whose lists of named maps, such as containers, merge by key), merge (RFC 7386) or json (RFC 6902)',
      options: ['strategic', 'merge', 'json'], default: 'strategic',
    }),
    subresource: Flags.string({ description: 'patch this subresource instead of the object', options: ['status'] }),
    'resource-version': Flags.string({ description: 'patch only if the object is still at this resourceVersion' }),
    ...dryRunFlag,
  };

  /** Sends the patch; exit 1 when it failed. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Patch);
    const [first, ...rest] = args.targets;
    const { kind, names } = parseTargets(first, rest);
    if (names.length !== 1) throw new CliError(`mk patch takes exactly one object (got ${names.length}): KIND NAME or KIND/NAME`);
    const name = names[0];
    const namespace = namespaceFor(kind, flags.namespace);
    const type = flags.type as PatchType;
    const patch = readPatch(flags.patch, flags['patch-file']);
    const dryRun = flags['dry-run'];
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      let changed: boolean;
      if (dryRun === 'client') {
        const live = await api.get(kind, namespace, name);
        const patched = applyPatch(type, live, patch);
        validateManifest(patched, 'strict');
        changed = !jsonEqual(patched, live);
      } else {
        const res = await api.patch({
          kind: kind.plural, name, ...(namespace ? { namespace } : {}), type, patch,
          ...(flags.subresource ? { subresource: 'status' as const } : {}),
          ...(flags['resource-version'] ? { resourceVersion: flags['resource-version'] } : {}),
          ...(dryRun === 'server' ? { dryRun: true } : {}),
        });
        changed = res.result === 'patched';
      }
      this.out(`${resourceName(kind, name)} patched${changed ? '' : ' (no change)'}${dryRunSuffix(dryRun)}\n`);
    });
  }
}

/** The patch from -p or --patch-file, parsed as JSON or YAML; CliError when absent or malformed. */
function readPatch(inline: string | undefined, file: string | undefined): unknown {
  if ((inline === undefined) === (file === undefined)) throw new CliError('give the patch with exactly one of -p and --patch-file');
  let text = inline;
  if (file !== undefined) {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read the patch file ${file}: ${(e as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = loadManifestYaml(text ?? '');
  } catch (e) {
    throw new CliError(`the patch is neither JSON nor YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (value === undefined || value === null) throw new CliError('the patch is empty');
  return value;
}
