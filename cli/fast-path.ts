/**
 * The fast path of `mk`: the commands users run all day (`mk get`, `mk describe`) read and run
 * without oclif, whose start-up alone (about 150 modules) costs more than node's own. bin/run.js asks
 * `fastCommand` first and gives oclif everything it declines: help, `--version`, every other
 * command, and any command line outside the subset cli/argv.ts reads, so oclif still parses it,
 * words its errors and shows its help. The flags and args come from oclif.manifest.json, which the
 * build writes from the command classes: one declaration, read by both.
 *
 * Within the fast path the command runs exactly as its oclif class runs it (the same function),
 * with MkCommand's error habit: `error: ...` on stderr and exit code 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeBooleanFlags, parseSimple, type CommandSpec, type Parsed } from './argv';
import { printError } from './output/io';

/** Runs one command from its parsed line; resolves with the exit code. */
type Runner = (parsed: Parsed) => Promise<number>;

/**
 * The commands the fast path runs, each loaded only when chosen. A command joins when its work
 * lives in a module without oclif (as cli/get-objects.ts) and test/unit/cli/argv.test.ts parses
 * its flags both ways.
 */
const FAST_COMMANDS: ReadonlyMap<string, () => Runner> = new Map([
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when chosen
  ['get', () => (require('./get-objects') as typeof import('./get-objects')).getObjects as unknown as Runner],
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when chosen
  ['describe', () => (require('./describe-objects') as typeof import('./describe-objects')).describeObjects as unknown as Runner],
]);

/** The ids of the commands the fast path runs. */
export function fastCommandIds(): string[] {
  return [...FAST_COMMANDS.keys()];
}

/** The package root: dist/cli/ is two levels below it. */
const ROOT = path.join(__dirname, '..', '..');

/** The command's entry in oclif.manifest.json; undefined without a readable manifest. */
function manifestEntry(id: string): CommandSpec | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands?: Record<string, CommandSpec> };
    const entry = manifest.commands?.[id];
    return entry && typeof entry.flags === 'object' && typeof entry.args === 'object' ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The fast run of `argv` (the words after `mk`), or undefined when oclif should run it. The run
 * never rejects: an error is printed the kubectl way and resolves to exit code 1.
 */
export function fastCommand(argv: string[]): (() => Promise<number>) | undefined {
  const [id, ...rest] = argv;
  const load = id === undefined ? undefined : FAST_COMMANDS.get(id);
  const spec = load && manifestEntry(id);
  const parsed = spec && parseSimple(normalizeBooleanFlags(rest, spec.flags), spec);
  if (!load || !parsed) return undefined;
  return async () => {
    // As oclif does: a reader that goes away (`mk get pods | head -1`) is not an error.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
    try {
      return await load()(parsed);
    } catch (e) {
      printError(e);
      return 1;
    }
  };
}
