/**
 * Where commands write: stdout as is, stderr line by line, errors worded the kubectl way. Shared by
 * the oclif commands (MkCommand) and the fast path (cli/fast-path.ts), which runs without oclif.
 */
import { formatError } from '../errors';

/** Writes text to stdout as is (no added newline). */
export function out(text: string): void {
  process.stdout.write(text);
}

/** Writes one line to stderr. */
export function err(line: string): void {
  process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
}

/** Prints an error the kubectl way (`error: ...`, `Error from server (NotFound): ...`), without stopping. */
export function printError(e: unknown): void {
  err(formatError(e));
}
