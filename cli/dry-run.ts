/** kubectl's `--dry-run=none|client|server` on the commands that write. */
import { Flags } from '@oclif/core';

/** none: write; client: decide locally and print what would be done; server: the api checks everything and stores nothing. */
export type DryRun = 'none' | 'client' | 'server';

/** The flag, shared by every writing command. */
export const dryRunFlag = {
  'dry-run': Flags.string({
    description: 'client: only print what would be done; server: the server validates and admits, and stores nothing',
    options: ['none', 'client', 'server'],
    default: 'none',
  }),
};

/** What kubectl appends to its output line in a dry run. */
export function dryRunSuffix(mode: string): string {
  return mode === 'client' ? ' (dry run)' : mode === 'server' ? ' (server dry run)' : '';
}
