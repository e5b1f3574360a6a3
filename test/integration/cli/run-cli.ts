/**
 * Runs the built CLI (`node bin/run.js ...`) for integration tests, building it first when the
 * sources are newer than dist/ (one build at a time, guarded by a lock directory).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCommand, type RunResult as CliResult } from '../../helpers/run';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'run.js');
const MARKER = path.join(ROOT, 'dist', 'cli', 'commands', 'get.js');
const SOURCES = ['cli', 'messages', 'bus', 'actors', 'common', 'embedded', 'dashboard'];

/** What a CLI run produced. */
export type { RunResult as CliResult } from '../../helpers/run';

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ (npm run build) unless it is newer than every CLI, messages and bus source. */
export function ensureBuilt(): void {
  const fresh = (): boolean => fs.existsSync(MARKER)
    && fs.statSync(MARKER).mtimeMs >= Math.max(...SOURCES.map((d) => newestSource(path.join(ROOT, d))));
  if (fresh()) return;
  const lock = path.join(ROOT, 'dist', '.cli-test-build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (fs.existsSync(lock) && Date.now() - fs.statSync(lock).mtimeMs > 300_000) fs.rmSync(lock, { recursive: true, force: true });
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    if (fresh()) return;
    try {
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 240_000 });
    } catch (err) {
      // tsc still emits when some other module has type errors; what matters is the CLI's output.
      if (!fs.existsSync(MARKER)) throw err;
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Runs `mk ARGS` with `env` added; resolves with the exit code and both outputs. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCommand([process.execPath, BIN, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, stdin: opts.stdin, timeoutMs: opts.timeoutMs });
}
