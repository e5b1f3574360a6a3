/**
 * The fast path's parser (cli/argv.ts) against oclif's own, on the flags and args of every command
 * the fast path runs: whatever the fast parser accepts, oclif accepts with the same result; and
 * whatever oclif refuses, the fast parser declines (so oclif words the error). The common lines
 * must take the fast path.
 */
import { Parser } from '@oclif/core';
import { normalizeBooleanFlags, parseSimple, type ArgSpec, type CommandSpec, type FlagSpec, type Parsed } from '../../../cli/argv';
import Describe from '../../../cli/commands/describe';
import Get from '../../../cli/commands/get';
import { fastCommandIds } from '../../../cli/fast-path';

type FlagDefs = Record<string, Record<string, unknown>>;
interface CommandClass { baseFlags?: FlagDefs; flags?: FlagDefs; args?: FlagDefs; strict?: boolean }

/** Every command the fast path runs, with its oclif class. */
const COMMANDS: Record<string, CommandClass> = { get: Get as unknown as CommandClass, describe: Describe as unknown as CommandClass };

/** The command's entry as oclif.manifest.json has it (oclif's cacheCommand keeps these fields). */
function specOf(cmd: CommandClass): CommandSpec {
  const flags: Record<string, FlagSpec> = {};
  for (const [name, f] of Object.entries({ ...cmd.baseFlags, ...cmd.flags })) {
    const shared = {
      char: f.char, env: f.env, aliases: f.aliases, charAliases: f.charAliases, dependsOn: f.dependsOn, exclusive: f.exclusive,
      relationships: f.relationships, required: f.required,
    } as Partial<FlagSpec>;
    flags[name] = f.type === 'boolean'
      ? { ...shared, type: 'boolean', allowNo: f.allowNo as boolean }
      : {
        ...shared, type: 'option', default: typeof f.default === 'function' ? 'dynamic' : f.default, delimiter: f.delimiter as string,
        hasDynamicHelp: typeof f.defaultHelp === 'function', multiple: f.multiple as boolean, options: f.options as string[],
      };
  }
  const args: Record<string, ArgSpec> = {};
  for (const [name, a] of Object.entries(cmd.args ?? {})) {
    args[name] = { required: a.required as boolean, multiple: a.multiple as boolean, options: a.options as string[], default: a.default };
  }
  return JSON.parse(JSON.stringify({ flags, args, strict: cmd.strict ?? true })) as CommandSpec;
}

/** oclif's parse of a line, as MkCommand runs it (booleans normalized first); an Error when it refuses. */
async function oclifParse(cmd: CommandClass, argv: string[]): Promise<Parsed | Error> {
  const flags = { ...cmd.baseFlags, ...cmd.flags };
  try {
    const r = await Parser.parse(normalizeBooleanFlags(argv, flags as never), { flags, args: cmd.args, strict: cmd.strict ?? true } as never);
    return { args: r.args as Parsed['args'], flags: r.flags as Parsed['flags'] };
  } catch (e) {
    return e as Error;
  }
}

function fastParse(cmd: CommandClass, argv: string[]): Parsed | undefined {
  const spec = specOf(cmd);
  return parseSimple(normalizeBooleanFlags(argv, spec.flags), spec);
}

/** The property: accepted by the fast parser means accepted by oclif, with the same args and flags. */
async function agree(cmd: CommandClass, argv: string[]): Promise<'fast' | 'declined'> {
  const fast = fastParse(cmd, argv);
  const slow = await oclifParse(cmd, argv);
  if (fast === undefined) return 'declined';
  expect({ argv, parsed: slow instanceof Error ? `oclif refused: ${slow.message}` : slow }).toEqual({ argv, parsed: fast });
  return 'fast';
}

describe('the fast parser', () => {
  it('covers exactly the commands the fast path runs', () => {
    expect(fastCommandIds().sort()).toEqual(Object.keys(COMMANDS).sort());
  });

  it('takes the common `mk get` lines and reads them as oclif does', async () => {
    const lines = [
      ['pods'], ['pods', '-n', 'kube-system'], ['pods', '--namespace=kube-system'], ['pods', '-nkube-system'], ['pods', '-n=kube-system'],
      ['-A', 'pods'], ['pods', '-Aw'], ['pods', '-o', 'wide'], ['pods', '-owide'], ['pods', '--output', 'json'], ['pod', 'a', 'b', '-o', 'yaml'],
      ['pods', '-l', 'app=web,tier!=db'], ['pods', '--selector=app in (a,b)'], ['pods', '--no-headers'], ['pods', '--watch=true'],
      ['pods', '--watch=false'], ['pods', '--data-dir', '/tmp/x'], ['pod/a', 'pod/b'], ['nodes', '-A'], ['po', 'a', '-n', 'x', '-w', '-o', 'name'],
    ];
    for (const argv of lines) expect({ argv, path: await agree(Get as unknown as CommandClass, argv) }).toEqual({ argv, path: 'fast' });
  });

  it('declines what oclif refuses or words itself', async () => {
    const lines = [
      [], ['pods', '-o', 'bogus'], ['pods', '-x'], ['pods', '--'], ['pods', '--help'], ['pods', '-n'], ['pods', '-n', '-A'],
      ['pods', '-o', 'json', '-o', 'yaml'], ['pods', '--watch=yes'], ['pods', '--no-watch'], ['pods', '-o='], ['pods', '--namespace='],
      ['pods', '-Ax'], ['pods', '--bogus'], ['-n', 'x'],
    ];
    for (const argv of lines) expect({ argv, parsed: fastParse(Get as unknown as CommandClass, argv) }).toEqual({ argv, parsed: undefined });
  });

  it('agrees with oclif on every option flag of every fast command, given a value oclif takes', async () => {
    for (const [id, cmd] of Object.entries(COMMANDS)) {
      const spec = specOf(cmd);
      const positional = Object.values(spec.args).filter((a) => !a.multiple).map(() => 'pods');
      for (const [name, f] of Object.entries(spec.flags)) {
        const argv = f.type === 'option' ? [...positional, `--${name}`, f.options?.[0] ?? '5'] : [...positional, `--${name}`];
        expect({ id, argv, path: await agree(cmd, argv) }).toEqual({ id, argv, path: 'fast' });
      }
    }
  });

  it('agrees with oclif on random lines', async () => {
    // Pieces of lines, a flag with its value as one piece, so that most lines get far enough to matter.
    const pieces = [
      ['-n', 'x'], ['-n'], ['--namespace', 'y'], ['-ny'], ['-o', 'json'], ['-o', 'bogus'], ['-owide'], ['-o=name'], ['--output=yaml'],
      ['-A'], ['-w'], ['-Aw'], ['-wA'], ['-An', 'z'], ['--no-headers'], ['--no-headers=true'], ['--watch=false'], ['-l', 'app=web'],
      ['--selector'], ['--data-dir', '/d'], ['a'], ['pod/a'], ['-x'], ['--'], ['-'], ['-1'], ['--help'],
    ];
    let seed = 42;
    const next = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
    let fast = 0;
    for (let i = 0; i < 1000; i++) {
      const argv = [...(i % 5 ? ['pods'] : []), ...Array.from({ length: next() % 5 }, () => pieces[next() % pieces.length]).flat()];
      if (await agree(Get as unknown as CommandClass, argv) === 'fast') fast++;
    }
    expect(fast).toBeGreaterThan(200);
  });
});
