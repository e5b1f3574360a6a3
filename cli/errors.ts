/**
 * How the CLI words errors, following kubectl: answers from the server read
 * `Error from server (NotFound): pods "x" not found`; everything else reads `error: ...`.
 */
import { ErrorCodes, MkError } from '../messages/errors';

/** Codes that mean "the server answered with this", as opposed to local or transport failures. */
const SERVER_CODES: Record<string, string> = {
  [ErrorCodes.NotFound]: 'NotFound',
  [ErrorCodes.AlreadyExists]: 'AlreadyExists',
  [ErrorCodes.Conflict]: 'Conflict',
  [ErrorCodes.BadRequest]: 'BadRequest',
  [ErrorCodes.Internal]: 'InternalError',
};

/** Thrown by commands for a user-facing failure that needs no prefix beyond `error: `. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** The line(s) to print on stderr for an error, without a trailing newline. */
export function formatError(err: unknown): string {
  if (err instanceof MkError && SERVER_CODES[err.code]) return `Error from server (${SERVER_CODES[err.code]}): ${err.message}`;
  const message = err instanceof Error ? err.message : String(err);
  return `error: ${message.replace(/\n+See more help with --help\s*$/, '')}`;
}
