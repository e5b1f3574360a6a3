/**
 * Running iptables, iptables-save, iptables-restore and conntrack: argument arrays, input on
 * stdin, never a shell. A `prefix` runs them elsewhere (tests pass `nsenter --net=<ns> --` to
 * program a network namespace of their own).
 */
import { spawn } from 'node:child_process';
import { JUMPS, type Jump } from './chains';
import { planRemoval, chainsInSave, TABLES, type Table } from './restore';

/** How the proxy runs its commands. */
export interface Commands {
  /** argv prepended to every command (default none). */
  prefix?: string[];
}

/** Thrown when a command exits non-zero; `stderr` holds what it said. */
export class CommandError extends Error {
  constructor(readonly argv: string[], readonly code: number | null, readonly stderr: string) {
    super(`${argv.join(' ')} failed (${code ?? 'killed'}): ${stderr.trim()}`);
    this.name = 'CommandError';
  }
}

/** Runs argv (after the prefix) with `input` on stdin; resolves with stdout; throws CommandError. */
export function runCommand(cmds: Commands, argv: string[], input = '', timeoutMs = 30_000): Promise<string> {
  const full = [...(cmds.prefix ?? []), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(full[0], full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => reject(new CommandError(full, null, err.message)));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new CommandError(full, code, stderr))));
    child.stdin.on('error', () => { /* the exit code says what went wrong */ });
    child.stdin.end(input);
  });
}

/**
 * Thrown when iptables-restore refuses a transaction; `line` is the input line it named (its
 * comment names the service), so the log says which rule was wrong, not just its number.
 */
export class RestoreError extends CommandError {
  constructor(cause: CommandError, readonly lineNumber: number | undefined, readonly line: string | undefined) {
    super(cause.argv, cause.code, line === undefined ? cause.stderr : `${cause.stderr.trim()} (line ${lineNumber}: ${line})`);
    this.name = 'RestoreError';
  }
}

/** The input line iptables-restore's error names (`line 37 failed`, `line 37: ...`), if any. */
export function failedLine(stderr: string, input: string): { lineNumber: number; line: string } | undefined {
  const m = /line (\d+)/.exec(stderr);
  if (!m) return undefined;
  const lineNumber = Number(m[1]);
  const line = input.split('\n')[lineNumber - 1];
  return line === undefined ? undefined : { lineNumber, line };
}

/**
 * How long one restore may take: 30 s, and 30 s more per MiB of input. With the nf_tables backend
 * a full sync of 1,000 services x 10 endpoints (about 5 MB, 47,000 lines) takes 7-8 s on a quiet
 * 2-core machine and several times that on a busy one; a fixed limit would kill it every time and
 * leave the node unprogrammed.
 */
export const restoreTimeoutMs = (inputBytes: number): number => 30_000 + Math.ceil((30_000 * inputBytes) / (1024 * 1024));

/** iptables-restore --noflush with `input` (one transaction); throws RestoreError. */
export async function restore(cmds: Commands, input: string): Promise<void> {
  try {
    await runCommand(cmds, ['iptables-restore', '--noflush', '-w', '5'], input, restoreTimeoutMs(Buffer.byteLength(input)));
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    const at = failedLine(err.stderr, input);
    throw new RestoreError(err, at?.lineNumber, at?.line);
  }
}

/** The chains of `table` now (iptables-save); none when the table does not exist yet. */
export async function chainsOf(cmds: Commands, table: Table): Promise<string[]> {
  // Listing a big table is slow with the nf_tables backend too: the limit of a 4 MiB restore.
  return chainsInSave(await runCommand(cmds, ['iptables-save', '-t', table], '', restoreTimeoutMs(4 * 1024 * 1024)));
}

const ipt = (cmds: Commands, table: string, args: string[]): Promise<boolean> =>
  runCommand(cmds, ['iptables', '-w', '5', '-t', table, ...args]).then(() => true, () => false);

/**
 * Makes sure `jump` exists once; one marked `first` must be rule 1 of its chain (another rule put
 * first later, such as MK-POD-NETWORK's, moves it back to the top).
 */
export async function ensureJump(cmds: Commands, jump: Jump): Promise<void> {
  if (jump.first) {
    const rules = (await runCommand(cmds, ['iptables', '-w', '5', '-t', jump.table, '-S', jump.chain])).split('\n').filter((l) => l.startsWith('-A '));
    const target = jump.args[jump.args.length - 1];
    const firstIsOurs = rules[0]?.endsWith(`-j ${target}`) ?? false;
    const copies = rules.filter((l) => l.endsWith(`-j ${target}`)).length;
    if (firstIsOurs && copies === 1) return;
    while (await ipt(cmds, jump.table, ['-D', jump.chain, ...jump.args])) { /* every copy */ }
    await runCommand(cmds, ['iptables', '-w', '5', '-t', jump.table, '-I', jump.chain, '1', ...jump.args]);
    return;
  }
  if (await ipt(cmds, jump.table, ['-C', jump.chain, ...jump.args])) return;
  await runCommand(cmds, ['iptables', '-w', '5', '-t', jump.table, '-A', jump.chain, ...jump.args]);
}

/** Removes every copy of `jump`. */
export async function removeJump(cmds: Commands, jump: Jump): Promise<void> {
  while (await ipt(cmds, jump.table, ['-D', jump.chain, ...jump.args])) { /* every copy */ }
}

/**
 * Removes everything the service proxy made: the jumps from built-in chains first, then every
 * proxy chain (flushed and deleted in one transaction per table). Other rules and chains, such as
 * MK-POD-NETWORK, stay. Throws when iptables-restore fails.
 */
export async function removeProxyRules(cmds: Commands = {}): Promise<void> {
  for (const j of JUMPS) await removeJump(cmds, j);
  const chains = { filter: [] as string[], nat: [] as string[] };
  for (const t of TABLES) chains[t] = await chainsOf(cmds, t).catch(() => []);
  const input = planRemoval(chains);
  if (input) await restore(cmds, input);
}

/** True when the `conntrack` tool is there. */
export async function hasConntrack(cmds: Commands): Promise<boolean> {
  return runCommand(cmds, ['conntrack', '--version']).then(() => true, () => false);
}
