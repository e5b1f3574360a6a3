/**
 * How the pod network runs `ip`, `bridge` and `iptables`: an argument array, never a shell. The
 * node agent runs them in its own network namespace (hostExec); the same code can be pointed at
 * another namespace by giving an Exec that wraps the command (`nsenter --net=PATH -- ...`).
 */
import { spawn } from 'node:child_process';

/**
 * Runs `cmd` with `args` (and `input` on stdin when given) and resolves with its stdout. Rejects
 * with an Error whose message is the command's stderr (or how it failed to start) when it exits
 * non-zero or does not finish within 10 s.
 */
export type Exec = (cmd: string, args: string[], input?: string) => Promise<string>;

const TIMEOUT_MS = 10_000;

/** Runs argv `prefix + [cmd, ...args]`; see Exec. */
export function execVia(prefix: string[]): Exec {
  return (cmd, args, input) => new Promise((resolve, reject) => {
    const argv = [...prefix, cmd, ...args];
    const child = spawn(argv[0], argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => { clearTimeout(timer); reject(new Error(`${cmd}: ${err.message}`)); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(stderr.trim() || `${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs commands in this process's own network namespace. */
export const hostExec: Exec = execVia([]);
