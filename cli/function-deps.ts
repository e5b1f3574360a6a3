/**
 * A function's dependencies, installed at deploy time: when a code directory holds a
 * `requirements.txt` (runtime python3) or a `package.json` with dependencies (runtime node), the
 * code is unpacked into a temporary directory, pip or npm installs the dependencies there, and
 * that tree is what gets packed and uploaded. The user's directory is never written to.
 *
 * The user's own pip and npm configuration decides the index (PIP_INDEX_URL, pip.conf,
 * npm_config_registry, .npmrc, a `.npmrc` in the code directory): none is hard-coded. Only the
 * timeouts are made short, so that a machine without an index says so in seconds instead of
 * minutes. Dependencies vendored in the code directory (a package beside the handler, a
 * node_modules/) need no index: `--no-deps` skips the install.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pack, unpack } from '../bus/code-archive';
import { CliError } from './errors';

/** How long one install may take before it is stopped. */
export const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** Network failures in pip's output: the index could not be reached at all. */
const PIP_NETWORK = /NewConnectionError|Failed to establish a new connection|ConnectTimeoutError|ReadTimeoutError|Connection refused|Name or service not known|Temporary failure in name resolution|Network is unreachable|No route to host|ProxyError|Max retries exceeded/;

/** npm's error codes for a registry it could not reach (`npm error code ECONNREFUSED`). */
const NPM_NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_TIMEOUT', 'ESOCKETTIMEDOUT', 'EPROXY']);

/** What installing a code directory's dependencies needs to know. */
export interface DependencyOptions {
  /** The Function's spec.runtime: python3 reads requirements.txt, node package.json. */
  runtime: string | undefined;
  /** False (`--no-deps`) skips the install. */
  install: boolean;
  /** A dry run installs nothing: it says what it would install. */
  dryRun: boolean;
  /** Where progress lines go (stderr). */
  progress: (line: string) => void;
}

/** The dependency file a code directory holds for its runtime, and how many dependencies it lists. */
export interface DependencyFile {
  tool: 'pip' | 'npm';
  file: 'requirements.txt' | 'package.json';
  count: number;
}

/**
 * The dependency file of `codePath` for `runtime`, or undefined: a file (not a directory), a
 * runtime without one, a requirements.txt with no requirement in it, or a package.json without
 * dependencies. Throws CliError for a package.json that is not JSON.
 */
export function dependencyFile(codePath: string, runtime: string | undefined): DependencyFile | undefined {
  if (!fs.statSync(codePath).isDirectory()) return undefined;
  if (runtime === 'python3') {
    const file = path.join(codePath, 'requirements.txt');
    if (!fs.existsSync(file)) return undefined;
    const count = fs.readFileSync(file, 'utf8').split('\n')
      .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
      .filter((l) => l !== '' && !l.startsWith('-')).length;
    const hasOptions = /^\s*-/m.test(fs.readFileSync(file, 'utf8'));
    return count > 0 || hasOptions ? { tool: 'pip', file: 'requirements.txt', count } : undefined;
  }
  if (runtime === 'node') {
    const file = path.join(codePath, 'package.json');
    if (!fs.existsSync(file)) return undefined;
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    const deps = (doc as { dependencies?: unknown } | null)?.dependencies;
    const count = deps && typeof deps === 'object' ? Object.keys(deps).length : 0;
    return count > 0 ? { tool: 'npm', file: 'package.json', count } : undefined;
  }
  return undefined;
}

/** True when every dependency package.json lists is already a folder in the code's node_modules/ (vendored). */
function nodeModulesComplete(codePath: string): boolean {
  const doc = JSON.parse(fs.readFileSync(path.join(codePath, 'package.json'), 'utf8')) as { dependencies: Record<string, unknown> };
  return Object.keys(doc.dependencies).every((name) => fs.existsSync(path.join(codePath, 'node_modules', name, 'package.json')));
}

/** A requirements.txt line that names one project and nothing else (`six`, `requests[socks]>=2.31`): its name. */
const PLAIN_REQUIREMENT = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*((===?|[<>!~]=|[<>])[^;@]*)?$/;

/** PEP 503's normalized name, with `_` for the separators as in a dist-info directory's name. */
function distName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '_');
}

/**
 * True when every line of requirements.txt names a project that already has a `*.dist-info`
 * directory at the code's root: the packages were vendored with `pip install --target`. A line
 * with options, a URL, a path or an environment marker is never taken as installed. Versions are
 * not compared: vendored packages are the user's to keep current.
 */
function requirementsVendored(codePath: string): boolean {
  const installed = new Set(fs.readdirSync(codePath)
    .filter((n) => n.endsWith('.dist-info'))
    .map((n) => distName(n.slice(0, -'.dist-info'.length).split('-')[0])));
  const lines = fs.readFileSync(path.join(codePath, 'requirements.txt'), 'utf8').split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '');
  return lines.every((l) => {
    const m = PLAIN_REQUIREMENT.exec(l);
    return m !== null && installed.has(distName(m[1]));
  });
}

/** The code to pack: `path` itself, or a temporary tree with the dependencies installed (`cleanup` removes it). */
export interface PreparedCode {
  path: string;
  cleanup: () => void;
}

/**
 * Installs `codePath`'s dependencies into a temporary copy and returns that copy's path, or
 * returns `codePath` as it is when there is nothing to install (a single file, no dependency
 * file, `--no-deps`, a dry run, a node_modules/ that already holds every dependency, or every
 * requirement already installed at the code's root, see requirementsVendored). The copy
 * is made by packing and unpacking, so it holds exactly what a deploy without dependencies would
 * pack (the same links followed and refused). Prints a line when it starts and when it is done.
 * Throws CliError when pip or npm is missing, when no index is reachable (naming it), or with the
 * tool's own message when the install fails; the temporary copy is removed then.
 */
export async function prepareCode(codePath: string, opts: DependencyOptions): Promise<PreparedCode> {
  const asIs: PreparedCode = { path: codePath, cleanup: () => undefined };
  const deps = dependencyFile(codePath, opts.runtime);
  if (!deps) return asIs;
  // A requirements.txt of options only (`-r more.txt`) has no count of its own.
  const counted = deps.tool === 'pip'
    ? (deps.count > 0 ? `${deps.count} ${plural(deps.count, 'requirement')}` : 'requirements')
    : `${deps.count} ${plural(deps.count, 'dependency', 'dependencies')}`;
  const what = `${counted} of ${deps.file}`;
  if (!opts.install) {
    opts.progress(`not installing the ${what} (--no-deps): only what the code directory holds is deployed`);
    return asIs;
  }
  if (deps.tool === 'npm' && nodeModulesComplete(codePath)) {
    opts.progress(`the ${what} ${deps.count === 1 ? 'is' : 'are'} already in node_modules/: not installing (remove node_modules/ to install afresh)`);
    return asIs;
  }
  if (deps.tool === 'pip' && requirementsVendored(codePath)) {
    opts.progress(`the ${what} ${deps.count === 1 ? 'is' : 'are'} already installed in the code directory: not installing (remove their .dist-info directories to install afresh)`);
    return asIs;
  }
  if (opts.dryRun) {
    opts.progress(`dry run: not installing the ${what}; the digest is of the code without them`);
    return asIs;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-code-deps-'));
  const cleanup = (): void => fs.rmSync(tmp, { recursive: true, force: true });
  try {
    unpack(pack(codePath).bytes, tmp);
    const started = Date.now();
    opts.progress(`installing ${counted} with ${deps.tool} ...`);
    if (deps.tool === 'pip') await pipInstall(tmp);
    else await npmInstall(tmp);
    opts.progress(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { path: tmp, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** What a finished child process left: its exit code (null when killed) and its stdout and stderr together. */
interface Ran { code: number | null; output: string }

/**
 * Runs `argv` in `cwd` with no stdin. Throws CliError when it cannot start or runs past
 * `timeoutMs` (it is killed then); otherwise resolves, whatever its exit code.
 */
function run(argv: string[], cwd: string, timeoutMs = INSTALL_TIMEOUT_MS): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CliError(`could not run ${argv[0]}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).toString('utf8');
      if (timedOut) {
        const command = [path.basename(argv[0]), ...argv.slice(1, 3)].join(' ');
        reject(new CliError(`${command} did not finish in ${Math.round(timeoutMs / 1000)} s and was stopped:\n${block(output.split('\n').filter((l) => l.trim() !== ''), 6)}`));
        return;
      }
      resolve({ code, output });
    });
  });
}

/** The last `n` of `lines`, as one indented block. */
function block(lines: string[], n = 12): string {
  return lines.slice(-n).map((l) => `  ${l}`).join('\n');
}

/**
 * `python3 -m pip install --target DIR -r requirements.txt` in DIR. `--target` puts the packages
 * at the code's root, which the loader has on sys.path (and Debian 12's pip allows it without
 * --break-system-packages: --target is not the system environment). `--no-compile` leaves no
 * .pyc behind: they embed the sources' mtimes, and the same requirements must pack to the same
 * digest.
 */
async function pipInstall(dir: string): Promise<void> {
  const python = findOnPath('python3');
  if (!python) throw new CliError('python3 is not available: install python3 and python3-pip to install requirements.txt, or vendor the packages and deploy with --no-deps');
  const version = await run([python, '-m', 'pip', '--version'], dir, 60_000);
  if (version.code !== 0) throw new CliError('pip is not available: install python3-pip (or vendor the packages beside the handler and deploy with --no-deps)');
  const r = await run([
    python, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--no-compile',
    '--timeout', '10', '--retries', '1', '--target', dir, '-r', 'requirements.txt',
  ], dir);
  if (r.code === 0) return;
  const lines = r.output.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  if (PIP_NETWORK.test(r.output)) {
    const looking = lines.find((l) => l.startsWith('Looking in indexes:'));
    const index = looking ? looking.slice('Looking in indexes:'.length).trim() : 'https://pypi.org/simple';
    throw new CliError(`no package index is reachable: pip could not connect to ${index} (${pipNetworkReason(r.output)}; `
      + 'set PIP_INDEX_URL or pip.conf\'s index-url to one that is).\n'
      + 'Vendored packages need no index: install them into the code directory where an index is reachable '
      + '(python3 -m pip install --target <dir> -r requirements.txt) and deploy with --no-deps.');
  }
  const errors = lines.filter((l) => l.startsWith('ERROR:'));
  throw new CliError(`pip could not install requirements.txt:\n${block(errors.length ? errors : lines)}`);
}

/** The short reason in pip's connection warning (`[Errno 111] Connection refused`), or a generic one. */
function pipNetworkReason(output: string): string {
  const m = /Failed to establish a new connection: ([^'")]+)/.exec(output)
    ?? /(Connection to \S+ timed out[^'")]*)/.exec(output)
    ?? /(Temporary failure in name resolution|Name or service not known|Network is unreachable|No route to host|Read timed out)/.exec(output);
  return m ? m[1].trim() : 'a network error';
}

/**
 * `npm install --omit=dev` in DIR. Install scripts are not run (`--ignore-scripts`): they would
 * run the packages' code on this machine, build native addons for this machine's node (not
 * necessarily the node's) and often download more; a package that needs its scripts is vendored
 * instead (npm install where it builds, then deploy with --no-deps).
 */
async function npmInstall(dir: string): Promise<void> {
  const npm = findOnPath('npm');
  if (!npm) throw new CliError('npm is not available: install npm to install package.json\'s dependencies, or vendor node_modules/ and deploy with --no-deps');
  const r = await run([
    npm, 'install', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--no-update-notifier',
    '--fetch-retries=1', '--fetch-timeout=10000', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=2000',
  ], dir);
  if (r.code === 0) return;
  const errorLines = r.output.split('\n')
    .filter((l) => /^npm (error|ERR!)/.test(l))
    .map((l) => l.replace(/^npm (error|ERR!) ?/, '').trimEnd());
  const code = errorLines.find((l) => l.startsWith('code '))?.slice(5).trim();
  const useful = errorLines.filter((l) => l.trim() !== '' && !/^\s/.test(l) && !/^(code|syscall|errno) /.test(l)
    && !/^[{}]/.test(l) && !/^A complete log/.test(l) && !/^If you are behind a proxy/.test(l) && !/^404\s*$/.test(l));
  if (code && NPM_NETWORK.has(code)) {
    const registry = await run([npm, 'config', 'get', 'registry'], dir, 60_000);
    const url = registry.code === 0 ? registry.output.trim() : 'the configured registry';
    throw new CliError(`no package registry is reachable: npm could not connect to ${url} (${code}; set npm_config_registry or .npmrc's registry to one that is).\n`
      + 'Vendored packages need no registry: run npm install in the code directory where a registry is reachable and deploy with --no-deps.\n'
      + block(useful, 4));
  }
  throw new CliError(`npm could not install package.json's dependencies:\n${block(useful.length ? useful : r.output.split('\n').filter((l) => l.trim() !== ''))}`);
}

/** The executable file `name` in a directory of PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}
