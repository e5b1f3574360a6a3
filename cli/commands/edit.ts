import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Args } from '@oclif/core';
import { loadManifestYaml } from '../../common/manifest-yaml';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { CliError } from '../errors';
import { namespaceFor, parseTargets } from '../kinds';
import { toYaml } from '../output/format';
import { jsonEqual, resourceName, validateManifest, type KubeObject } from '../../messages';

const HEADER = [
  '# Edit the object below and save to send it; lines that start with "#" are ignored.',
  '# Saving an empty file, or the object unchanged, cancels the edit.',
  '# The object is replaced only if nobody changed it meanwhile (its resourceVersion).',
  '#',
].join('\n');

/**
 * `mk edit KIND NAME`: opens the live object in $KUBE_EDITOR, else $EDITOR, else vi, and on save
 * validates it and replaces the object at the resourceVersion read (Conflict when someone else
 * wrote it meanwhile). When the edit is invalid or the write fails, the error is printed, the
 * edited file is kept and its path printed, and the exit status is 1.
 */
export default class Edit extends MkCommand {
  static override summary = 'Edit an object in your editor';
  static override examples = ['<%= config.bin %> edit pod web', 'KUBE_EDITOR="nano" <%= config.bin %> edit node/n1'];
  static override args = {
    targets: Args.string({ description: 'KIND NAME or KIND/NAME', multiple: true, required: true }),
  };
  static override flags = { ...namespaceFlags };

  /** Edits one object. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Edit);
    const [first, ...rest] = args.targets;
    const { kind, names } = parseTargets(first, rest);
    if (names.length !== 1) throw new CliError(`mk edit takes exactly one object (got ${names.length}): KIND NAME or KIND/NAME`);
    const namespace = namespaceFor(kind, flags.namespace);
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      const live = await api.get(kind, namespace, names[0]);
      const file = path.join(os.tmpdir(), `mk-edit-${randomBytes(6).toString('hex')}.yaml`);
      fs.writeFileSync(file, `${HEADER}\n${toYaml(live)}`, { mode: 0o600 });
      let keep = false;
      try {
        runEditor(file);
        const text = fs.readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
        if (text.trim() === '') {
          this.out('Edit cancelled, no changes made.\n');
          return;
        }
        try {
          const edited = parseEdited(text, live);
          if (jsonEqual(edited, live)) {
            this.out('Edit cancelled, no changes made.\n');
            return;
          }
          const res = await api.update({ object: edited, ...(namespace ? { namespace } : {}) });
          this.out(res.result === 'unchanged' ? 'Edit cancelled, no changes made.\n' : `${resourceName(kind, live.metadata.name)} edited\n`);
        } catch (e) {
          keep = true;
          this.printError(e);
          this.err(`A copy of your changes has been stored to "${file}"`);
          throw new CliError('Edit cancelled, no valid changes were saved.');
        }
      } finally {
        if (!keep) fs.rmSync(file, { force: true });
      }
    });
  }
}

/** Runs the user's editor on `file`, without a shell (the variable's words are its arguments). */
function runEditor(file: string): void {
  const command = (process.env.KUBE_EDITOR || process.env.EDITOR || 'vi').trim().split(/\s+/);
  const res = spawnSync(command[0], [...command.slice(1), file], { stdio: 'inherit' });
  if (res.error) throw new CliError(`cannot run the editor "${command[0]}": ${res.error.message} (set KUBE_EDITOR or EDITOR)`);
  if (res.status !== 0) throw new CliError(`the editor "${command.join(' ')}" exited with ${res.status ?? res.signal}: edit cancelled`);
}

/** The edited object, validated; it keeps the resourceVersion read unless the user changed it. */
function parseEdited(text: string, live: KubeObject): KubeObject {
  let doc: unknown;
  try {
    doc = loadManifestYaml(text);
  } catch (e) {
    throw new CliError(`the edited file is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const { object } = validateManifest(doc, 'strict');
  if (object.kind !== live.kind || object.metadata.name !== live.metadata.name) {
    throw new CliError(`the kind and name of the object cannot be changed (it was ${live.kind} "${live.metadata.name}")`);
  }
  return { ...object, metadata: { ...object.metadata, resourceVersion: object.metadata.resourceVersion ?? live.metadata.resourceVersion } };
}
