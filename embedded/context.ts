/**
 * The CLI's context: which data directory, which bus, which credentials. `mk up` writes
 * `<dataDir>/config.json` (mode 0600) and every other command reads it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectCore, type CoreBus, type CoreBusOptions } from '../bus/core-client';
import { inboxPrefix } from '../messages/subjects';
import { dns1123LabelError } from '../messages/names';

/** A parsed context file: where the bus is and who the CLI is on it. */
export interface Context {
  servers: string[];
  user?: string;
  pass?: string;
  nodeName: string;
  /** The cluster CA (PEM file) the bus's TLS certificate is checked against. */
  caFile?: string;
  /** A file holding this identity's nkey seed (a joined node's), used instead of user and password. */
  nkeyFile?: string;
}

/**
 * The context file's schema. Built on first use, and only to word what is wrong with a file that
 * `isContext` refused: loading zod costs more than a short command's whole run.
 */
function contextSchema() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
  const { z } = require('zod') as typeof import('zod');
  return z.strictObject({
    servers: z.array(z.string().min(1)).min(1),
    user: z.string().optional(),
    pass: z.string().optional(),
    nodeName: z.string().min(1),
    caFile: z.string().optional(),
    nkeyFile: z.string().optional(),
  });
}

/** True when `raw` is what contextSchema accepts; false sends it to the schema for the message. */
function isContext(raw: unknown): raw is Context {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const o = raw as Record<string, unknown>;
  const optionalString = (v: unknown) => v === undefined || typeof v === 'string';
  return Object.keys(o).every((k) => ['servers', 'user', 'pass', 'nodeName', 'caFile', 'nkeyFile'].includes(k))
    && Array.isArray(o.servers) && o.servers.length > 0 && o.servers.every((s) => typeof s === 'string' && s.length > 0)
    && optionalString(o.user) && optionalString(o.pass) && optionalString(o.caFile) && optionalString(o.nkeyFile)
    && typeof o.nodeName === 'string' && o.nodeName.length > 0;
}

/** Thrown when there is no usable context file; the message says what to run. */
export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

/** The data directory: `--data-dir`, else `$MK_HOME`, else `~/.mk`; always absolute. */
export function resolveDataDir(flag?: string): string {
  const dir = flag || process.env.MK_HOME || path.join(os.homedir(), '.mk');
  return path.resolve(dir);
}

/** Path of the context file in a data directory. */
export function contextPath(dataDir: string): string {
  return path.join(dataDir, 'config.json');
}

/** Reads and checks the context file. Throws ContextError when missing or malformed. */
export function readContext(dataDir: string): Context {
  const file = contextPath(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ContextError(`no cluster context at ${file} (is the cluster up? run \`mk up\`, or pass --data-dir)`);
    }
    throw new ContextError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ContextError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (isContext(raw)) return raw;
  const res = contextSchema().safeParse(raw);
  if (!res.success) {
    throw new ContextError(`${file} is invalid: ${res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return res.data;
}

/** Returns the context, or undefined when the file does not exist. Other problems still throw. */
export function tryReadContext(dataDir: string): Context | undefined {
  return fs.existsSync(contextPath(dataDir)) ? readContext(dataDir) : undefined;
}

/** Writes a file atomically with mode 0600 (secrets never exist with wider permissions). */
export function writeSecretFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Writes the context file (0600). */
export function writeContext(dataDir: string, ctx: Context): void {
  writeSecretFile(contextPath(dataDir), JSON.stringify(ctx, null, 2) + '\n');
}

/** A node name from the host name, made a valid DNS-1123 label (`My_Host.local` -> `my-host`). */
export function defaultNodeName(hostname: string = os.hostname()): string {
  const name = hostname.split('.')[0].toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return name && !dns1123LabelError(name) ? name : 'node-1';
}

/**
 * Reads the context of `dataDir` and connects to its bus as the context's user, for requests only
 * (no JetStream client). Throws ContextError without a context, UnavailableError when the bus
 * cannot be reached.
 */
export async function connectWithContext(dataDir: string, opts: { name: string; timeoutMs?: number }): Promise<{ bus: CoreBus; ctx: Context }> {
  const ctx = readContext(dataDir);
  const bus = await connectCore({ ...busAuth(ctx), name: opts.name, timeoutMs: opts.timeoutMs ?? 3000 });
  return { bus, ctx };
}

/**
 * How the context's identity connects: its servers, the CA to check the bus against, and either
 * user and password or the nkey seed (read from its file) with the node's own inbox prefix.
 * Throws ContextError when the seed file cannot be read.
 */
export function busAuth(ctx: Context): Pick<CoreBusOptions, 'servers' | 'user' | 'pass' | 'caFile' | 'nkeySeed' | 'inboxPrefix'> {
  const auth: Pick<CoreBusOptions, 'servers' | 'user' | 'pass' | 'caFile' | 'nkeySeed' | 'inboxPrefix'> = { servers: ctx.servers };
  if (ctx.caFile) auth.caFile = ctx.caFile;
  if (ctx.nkeyFile) {
    try {
      auth.nkeySeed = fs.readFileSync(ctx.nkeyFile, 'utf8').trim();
    } catch (err) {
      throw new ContextError(`cannot read the nkey seed ${ctx.nkeyFile}: ${(err as Error).message}`);
    }
    auth.inboxPrefix = inboxPrefix(`node-${ctx.nodeName}`);
  } else {
    auth.user = ctx.user;
    auth.pass = ctx.pass;
  }
  return auth;
}
