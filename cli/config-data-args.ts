/**
 * `mk create configmap|secret` as kubectl's: objects made from --from-literal, --from-file and
 * --from-env-file, and a registry login from the --docker-* flags
 * (kubectl's create_configmap.go and create_secret_docker.go, rewritten from their behaviour).
 * Every problem is a CliError naming the flag and the value.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { dataKeyError } from '../messages/config-data';
import { envVarNameError } from '../messages/env-source';
import type { KubeObject } from '../messages';
import { CliError } from './errors';

/** Where the data comes from, flag by flag, in the order kubectl reads them. */
export interface DataSources {
  literals?: string[];
  files?: string[];
  envFiles?: string[];
}

/** One key and its bytes, with where it came from (for error messages). */
interface Entry { key: string; value: Buffer }

function checkKey(key: string, from: string): void {
  const bad = dataKeyError(key);
  if (bad) throw new CliError(`"${key}" (from ${from}) is not a valid key name for a ConfigMap or Secret: ${bad}`);
}

/** `key=value` of --from-literal; the value may hold `=`. */
function literal(src: string): Entry {
  const eq = src.indexOf('=');
  if (eq <= 0) throw new CliError(`invalid literal source ${src}, expected key=value`);
  const key = src.slice(0, eq);
  checkKey(key, `--from-literal=${src}`);
  return { key, value: Buffer.from(src.slice(eq + 1)) };
}

/** `[key=]path` of --from-file: a file (its name the key), or every regular file of a directory. */
function fileEntries(src: string): Entry[] {
  const eq = src.indexOf('=');
  const key = eq >= 0 ? src.slice(0, eq) : undefined;
  const file = eq >= 0 ? src.slice(eq + 1) : src;
  if (key === '' || file === '') throw new CliError(`--from-file=${src}: give [key=]path with a key and a path`);
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new CliError(`--from-file=${src}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file or directory: ${file}` : (e as Error).message}`);
  }
  if (st.isDirectory()) {
    if (key !== undefined) throw new CliError(`--from-file=${src}: a key cannot be given for a directory (${file})`);
    // kubectl takes the directory's regular files whose names are valid keys and skips the rest.
    return readdirSync(file).sort()
      .filter((n) => statSync(path.join(file, n)).isFile() && !dataKeyError(n))
      .map((n) => ({ key: n, value: readFileSync(path.join(file, n)) }));
  }
  const k = key ?? path.basename(file);
  checkKey(k, `--from-file=${src}`);
  return [{ key: k, value: readFileSync(file) }];
}

/**
 * The entries of an env file: `KEY=VALUE` lines; blank lines and lines starting with `#` are
 * skipped; a line with a name alone takes the value of that variable in `env`, if set.
 */
export function envFileEntries(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Entry[] {
  const out: Entry[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line.trimEnd();
    const bad = envVarNameError(key);
    if (bad) throw new CliError(`${file}, line ${i + 1}: "${key}" is not a valid key name: ${bad}`);
    if (eq >= 0) out.push({ key, value: Buffer.from(line.slice(eq + 1)) });
    else if (env[key] !== undefined) out.push({ key, value: Buffer.from(env[key]!) });
  });
  return out;
}

function entries(src: DataSources): Entry[] {
  const all: Entry[] = [];
  for (const f of src.files ?? []) all.push(...fileEntries(f));
  for (const l of src.literals ?? []) all.push(literal(l));
  for (const f of src.envFiles ?? []) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new CliError(`--from-env-file=${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    all.push(...envFileEntries(text, f));
  }
  return all;
}

function addOnce(map: Record<string, string>, e: Entry, value: string, what: string): void {
  if (e.key in map) throw new CliError(`cannot add key ${e.key}, another key by that name already exists in ${what}`);
  map[e.key] = value;
}

function meta(name: string, namespace: string | undefined): KubeObject['metadata'] {
  return { name, ...(namespace ? { namespace } : {}) };
}

/** A ConfigMap from the sources: text values in data, anything that is not UTF-8 in binaryData. */
export function configMapFrom(name: string, namespace: string | undefined, src: DataSources): KubeObject {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const e of entries(src)) {
    const text = e.value.toString('utf8');
    const isText = Buffer.from(text, 'utf8').equals(e.value);
    if (e.key in data || e.key in binaryData) {
      throw new CliError(`cannot add key ${e.key}, another key by that name already exists in ConfigMap "${name}"`);
    }
    if (isText) data[e.key] = text; else binaryData[e.key] = e.value.toString('base64');
  }
  return {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name, namespace),
    ...(Object.keys(data).length ? { data } : {}), ...(Object.keys(binaryData).length ? { binaryData } : {}),
  } as KubeObject;
}

/** A generic Secret from the sources, of `type` (Opaque when not given). */
export function genericSecretFrom(name: string, namespace: string | undefined, src: DataSources, type?: string): KubeObject {
  const data: Record<string, string> = {};
  for (const e of entries(src)) addOnce(data, e, e.value.toString('base64'), `Secret "${name}"`);
  return {
    apiVersion: 'v1', kind: 'Secret', metadata: meta(name, namespace),
    ...(type ? { type } : {}), ...(Object.keys(data).length ? { data } : {}),
  } as KubeObject;
}

/** The flags of `mk create secret docker-registry`. */
export interface DockerRegistryFlags {
  server?: string;
  username?: string;
  password?: string;
  email?: string;
}

/** Docker Hub's login server, kubectl's default for --docker-server. */
export const DEFAULT_DOCKER_SERVER = 'https://index.docker.io/v1/';

/** A kubernetes.io/dockerconfigjson Secret holding one registry login, as kubectl writes it. */
export function dockerRegistrySecret(name: string, namespace: string | undefined, f: DockerRegistryFlags): KubeObject {
  if (!f.username) throw new CliError('--docker-username is required');
  if (!f.password) throw new CliError('--docker-password is required');
  const server = f.server || DEFAULT_DOCKER_SERVER;
  const auth = Buffer.from(`${f.username}:${f.password}`).toString('base64');
  const entry = { username: f.username, password: f.password, ...(f.email ? { email: f.email } : {}), auth };
  const json = JSON.stringify({ auths: { [server]: entry } });
  return {
    apiVersion: 'v1', kind: 'Secret', metadata: meta(name, namespace),
    type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(json).toString('base64') },
  } as KubeObject;
}
