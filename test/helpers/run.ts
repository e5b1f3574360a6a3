/** Running a command to completion in tests: argv (no shell), optional stdin and env, a deadline. */
import { spawn } from 'node:child_process';

export interface RunResult { code: number; stdout: string; stderr: string }

export interface RunOptions { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string; timeoutMs?: number }

/**
 * Runs `argv` and resolves with its exit code (128 when killed by a signal) and both outputs.
 * Rejects when it cannot start, or kills it and rejects after the deadline (default 30 s).
 */
export function runCommand(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${argv.join(' ')}\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    // A command that exits before reading its stdin closes the pipe: that is not a failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}
