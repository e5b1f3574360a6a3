/**
 * The keys Secrets are encrypted with in the store (bus/secret-envelope.ts), kept in
 * `<data-dir>/encryption-keys.json` (0600) beside credentials.json: made by the first `mk up` (or
 * by a control plane that starts without one), read by every control plane at start, so the
 * control planes `mk up --control-planes N` runs on the machine share them as they share the
 * credentials. The file holds a list, newest first: writes use the first key, reads any, so a key
 * is rotated by adding a new one in front, restarting the control planes (the leader re-writes
 * every Secret with it), and only then dropping the old one.
 *
 *   { "keys": [ { "id": "3f9a0c1d2e4b", "secret": "<32 bytes, base64>", "created": "<ISO 8601>" } ] }
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { generateKey, isEncryptionError, KeyRing } from '../bus/secret-envelope';
import { ClusterError } from './errors';
import type { ClusterPaths } from './paths';

/** The key file of a data directory. */
export function encryptionKeysFile(paths: ClusterPaths): string {
  return path.join(paths.dataDir, 'encryption-keys.json');
}

const KeyFileSchema = z.strictObject({
  keys: z.array(z.strictObject({
    id: z.string(),
    secret: z.string().describe('32 random bytes, base64'),
    created: z.string().optional(),
  })).min(1, 'it must hold at least one key'),
});

/**
 * The keys of `file`, or undefined when there is no such file. Throws ClusterError naming the
 * file when it cannot be read or does not hold a valid list of keys.
 */
export function readEncryptionKeys(file: string): KeyRing | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ClusterError(`cannot read the encryption key file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ClusterError(`the encryption key file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = KeyFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ClusterError(`the encryption key file ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  }
  try {
    return new KeyRing(parsed.data.keys.map((k) => ({ id: k.id, secret: Buffer.from(k.secret, 'base64') })), file);
  } catch (err) {
    throw new ClusterError((err as Error).message);
  }
}

/**
 * The keys of `file`, made (one new key, mode 0600) when there is no such file. Several
 * processes may race to make it: exactly one file wins (it is linked into place, never
 * overwritten) and every one of them returns its keys. `created`: whether this call made it.
 * Throws ClusterError as readEncryptionKeys does.
 */
export function ensureEncryptionKeys(file: string): { keys: KeyRing; created: boolean } {
  const existing = readEncryptionKeys(file);
  if (existing) return { keys: existing, created: false };
  const key = generateKey();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const content = { keys: [{ id: key.id, secret: Buffer.from(key.secret).toString('base64'), created: new Date().toISOString() }] };
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { keys: readEncryptionKeys(file)!, created: false };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return { keys: new KeyRing([key], file), created: true };
}

/**
 * Starts a control plane (`start`) with the keys of `file`, made when missing (and said so on
 * `log`). Throws ClusterError naming the file when it is unusable (readEncryptionKeys), or when it
 * was missing while the store holds Secrets sealed with its keys, or a canary recording another
 * key (a control plane on another machine made the cluster's key first): `start` then fails with
 * EncryptionError, and the file made for it is removed again, so the next start sees what is
 * missing too. Other failures of `start` are thrown as they are.
 */
export async function startWithEncryptionKeys<T>(file: string, log: (line: string) => void, start: (keys: KeyRing) => Promise<T>): Promise<T> {
  const { keys, created } = ensureEncryptionKeys(file);
  if (created) log(`made the Secrets' encryption key ${keys.current} in ${file}`);
  try {
    return await start(keys);
  } catch (err) {
    if (!created || !isEncryptionError(err)) throw err;
    fs.rmSync(file, { force: true });
    throw new ClusterError(`the encryption key file ${file} is missing, but the store holds Secrets encrypted with a key it held `
      + `("${err.keyId}", recorded in ${err.key}): copy the cluster's key file to ${file} from a machine whose control plane has it `
      + '(every control plane of the cluster needs the same one) and start again');
  }
}
