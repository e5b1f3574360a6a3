/**
 * Runs a function loader (node-agent/functions/loader.py or loader.js) as a plain process on a
 * free loopback port, loading `handler` from `codeDir` through its environment as an instance
 * does, and resolves once its /healthz answers 200. The caller owns (and kills) the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const LOADERS = path.resolve(__dirname, '..', '..', 'node-agent', 'functions');

/** A loader that answers. */
export interface LoaderProcess { url: string; child: ChildProcess; stderr: () => string }

/** Starts the `runtime` loader on `codeDir` with `handler`; rejects with its stderr when it exits or is not ready within 10 s. */
export async function startLoaderProcess(runtime: 'python3' | 'node', codeDir: string, handler: string): Promise<LoaderProcess> {
  const argv = runtime === 'python3' ? ['python3', path.join(LOADERS, 'loader.py')] : [process.execPath, path.join(LOADERS, 'loader.js')];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: codeDir,
    env: {
      PATH: process.env.PATH, MK_FUNCTION_PORT: '0', MK_FUNCTION_HOST: '127.0.0.1', PYTHONDONTWRITEBYTECODE: '1',
      MK_FUNCTION_HANDLER: handler, MK_FUNCTION_CODE_DIR: codeDir,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${runtime} loader did not start in 10 s: ${err}`)), 10_000);
      child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the ${runtime} loader exited with ${code}: ${err}`)); });
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
        if (m) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[1]}`); }
      });
    });
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${url}/healthz`)).status !== 200) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the ${runtime} loader never got ready: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { url, child, stderr: () => err };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}
