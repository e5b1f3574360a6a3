/**
 * The base of every `mk` command: the global `--data-dir` flag, kubectl's error habit
 * (`error: ...` on stderr, exit code 1) and strict flags (an unknown flag is an error).
 */
import { Command, Errors, Flags } from '@oclif/core';
import { resolveDataDir } from '../embedded/context';
import { formatError } from './errors';

/** Flags shared by commands that act in a namespace. */
export const namespaceFlags = {
  namespace: Flags.string({ char: 'n', description: 'the namespace (default: "default")' }),
};

/** Base class: subclasses implement `run()` and throw on failure. */
export abstract class MkCommand extends Command {
  static override baseFlags = {
    'data-dir': Flags.string({
      description: 'the cluster data directory (default: $MK_HOME, else ~/.mk)',
      helpGroup: 'GLOBAL',
    }),
  };
  static override strict = true;

  /** Accepts kubectl's `--flag=true|false` spelling of boolean flags before oclif parses. */
  override async init(): Promise<void> {
    await super.init();
    this.argv = normalizeBooleanFlags(this.argv, { ...this.ctor.baseFlags, ...this.ctor.flags });
  }

  /** Resolves the data directory from a parsed `--data-dir` value. */
  protected dataDir(flag: string | undefined): string {
    return resolveDataDir(flag);
  }

  /** Writes text to stdout as is (no added newline). */
  protected out(text: string): void {
    process.stdout.write(text);
  }

  /** Writes one line to stderr. */
  protected err(line: string): void {
    process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Prints an error the kubectl way, without stopping. */
  protected printError(e: unknown): void {
    this.err(formatError(e));
  }

  /** Prints `error: ...` and exits 1; an explicit `this.exit(n)` passes through unchanged. */
  protected override async catch(e: Error & { exitCode?: number }): Promise<unknown> {
    if (e instanceof Errors.ExitError) throw e;
    this.printError(e);
    return Errors.exit(1);
  }
}

/**
 * Rewrites `--wait=false` to `--no-wait` and `--wait=true` to `--wait` for boolean flags (oclif
 * takes only the bare forms; kubectl users type both). Arguments after `--` are left alone.
 */
export function normalizeBooleanFlags(argv: string[], flags: Record<string, { type?: string; allowNo?: boolean }>): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (const a of argv) {
    const m = passthrough ? null : /^--([a-z][a-z0-9-]*)=(true|false)$/.exec(a);
    if (a === '--') passthrough = true;
    const flag = m ? flags[m[1]] : undefined;
    if (!m || flag?.type !== 'boolean') {
      out.push(a);
    } else if (m[2] === 'true') {
      out.push(`--${m[1]}`);
    } else if (flag.allowNo) {
      out.push(`--no-${m[1]}`);
    }
  }
  return out;
}
