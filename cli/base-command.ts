/**
 * The base of every `mk` command: the global `--data-dir` flag, kubectl's error habit
 * (`error: ...` on stderr, exit code 1) and strict flags (an unknown flag is an error).
 */
import { Command, Errors, Flags } from '@oclif/core';
import { resolveDataDir } from '../embedded/context';
import { normalizeBooleanFlags } from './argv';
import { err, out, printError } from './output/io';

export { normalizeBooleanFlags } from './argv';

/** Flags shared by commands that act in a namespace. */
export const namespaceFlags = {
  namespace: Flags.string({ char: 'n', description: 'the namespace (default: "default")' }),
};

/** Flags of the processes that serve Prometheus metrics (`mk control-plane`, `mk node-agent`). */
export const metricsFlags = {
  'metrics-port': Flags.integer({
    min: 0, max: 65535, env: 'MK_METRICS_PORT',
    description: 'serve Prometheus metrics on http://<metrics-address>:PORT/metrics (0: any free port, logged; default: none)',
  }),
  'metrics-address': Flags.string({
    default: '127.0.0.1', env: 'MK_METRICS_ADDRESS',
    description: 'the address --metrics-port listens on',
  }),
};

/** The metrics endpoint metricsFlags ask for, as an option object (none without --metrics-port). */
export function metricsOption(flags: { 'metrics-port'?: number; 'metrics-address'?: string }): { metrics?: { host?: string; port: number } } {
  return flags['metrics-port'] !== undefined ? { metrics: { host: flags['metrics-address'], port: flags['metrics-port'] } } : {};
}

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
    out(text);
  }

  /** Writes one line to stderr. */
  protected err(line: string): void {
    err(line);
  }

  /** Prints an error the kubectl way, without stopping. */
  protected printError(e: unknown): void {
    printError(e);
  }

  /** Prints `error: ...` and exits 1; an explicit `this.exit(n)` passes through unchanged. */
  protected override async catch(e: Error & { exitCode?: number }): Promise<unknown> {
    if (e instanceof Errors.ExitError) throw e;
    this.printError(e);
    return Errors.exit(1);
  }
}
