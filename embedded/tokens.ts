/**
 * Join tokens, in kubeadm's bootstrap-token form `<id>.<secret>` (6 and 16 characters of
 * [a-z0-9], https://kubernetes.io/docs/reference/access-authn-authz/bootstrap-tokens/). A token
 * lets a machine join the cluster as a node (embedded/join.ts). The store is
 * `<data-dir>/tokens.json` (0600) and keeps only the SHA-256 of each secret, so the secret is shown
 * once, at creation. Expired tokens are refused, and dropped at the store's next write.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeSecretFile } from './context';
import { ClusterError } from './errors';

/** kubeadm's token shape. */
const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ID_RE = /^[a-z0-9]{6}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** kubeadm's default time to live of a token. */
export const DEFAULT_TOKEN_TTL_MS = 24 * 3600_000;

/** A token split in its parts. */
export interface ParsedToken { id: string; secret: string }

const StoredTokenSchema = z.strictObject({
  id: z.string().regex(ID_RE).describe('The public part of the token: 6 characters of [a-z0-9].'),
  secretSha256: z.string().regex(/^[0-9a-f]{64}$/).describe('Hex SHA-256 of the secret part; the secret itself is never stored.'),
  description: z.string().optional().describe('What the token is for, as given at creation.'),
  created: z.string().describe('When the token was made (RFC 3339).'),
  expires: z.string().optional().describe('When the token stops working (RFC 3339); absent: never.'),
});
/** One token as tokens.json keeps it. */
export type StoredToken = z.infer<typeof StoredTokenSchema>;

const TokenFileSchema = z.strictObject({
  tokens: z.array(StoredTokenSchema).describe('The join tokens of the cluster.'),
});

/** Thrown when a token is malformed, unknown, wrong or expired; the message says which. */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** Splits `id.secret`; throws TokenError naming the expected form. */
export function parseToken(token: string): ParsedToken {
  const m = TOKEN_RE.exec(token);
  if (!m) throw new TokenError('invalid token: expected the form abcdef.0123456789abcdef (6 and 16 characters of a-z, 0-9)');
  return { id: m[1], secret: m[2] };
}

/** A new random token (crypto-random characters). */
export function generateToken(): string {
  const pick = (n: number): string => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/** Hex SHA-256 of a token's secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * A time to live in Go's duration form as kubeadm takes it (`24h`, `90m`, `1h30m`, `45s`; `0`
 * means never expires). Returns milliseconds (0 = never); throws TokenError otherwise.
 */
export function parseTtl(ttl: string): number {
  if (ttl === '0') return 0;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(ttl);
  if (!ttl || !m) throw new TokenError(`invalid --ttl "${ttl}": expected a duration such as 24h, 30m, 1h30m or 0 (never expires)`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** Whether a stored token has expired at `now`. */
export function isExpired(t: StoredToken, now: number = Date.now()): boolean {
  return t.expires !== undefined && Date.parse(t.expires) <= now;
}

/** The store's file in a data directory. */
export function tokensFile(dataDir: string): string {
  return path.join(dataDir, 'tokens.json');
}

/** Reads the stored tokens (none when there is no file). Throws ClusterError for a malformed file. */
export function readTokens(dataDir: string): StoredToken[] {
  const file = tokensFile(dataDir);
  if (!fs.existsSync(file)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ClusterError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = TokenFileSchema.safeParse(raw);
  if (!parsed.success) throw new ClusterError(`${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.tokens;
}

/** Writes the tokens, without the expired ones. */
function writeTokens(dataDir: string, tokens: StoredToken[], now: number): void {
  const live = tokens.filter((t) => !isExpired(t, now));
  writeSecretFile(tokensFile(dataDir), JSON.stringify({ tokens: live }, null, 2) + '\n');
}

/** The tokens that have not expired, in creation order. */
export function listTokens(dataDir: string, now: number = Date.now()): StoredToken[] {
  return readTokens(dataDir).filter((t) => !isExpired(t, now));
}

/**
 * Makes a token (or stores `opts.token`, which must be well formed and have a new id) and
 * returns it with its stored record: the only time the secret is seen. `ttlMs` 0 never expires.
 */
export function createToken(
  dataDir: string, opts: { ttlMs: number; description?: string; token?: string; now?: number },
): { token: string; stored: StoredToken } {
  const now = opts.now ?? Date.now();
  const tokens = readTokens(dataDir);
  let token = opts.token ?? generateToken();
  if (opts.token === undefined) while (tokens.some((t) => t.id === parseToken(token).id)) token = generateToken();
  const { id, secret } = parseToken(token);
  if (tokens.some((t) => t.id === id && !isExpired(t, now))) throw new TokenError(`a token with id "${id}" already exists`);
  const stored: StoredToken = {
    id,
    secretSha256: hashSecret(secret),
    ...(opts.description ? { description: opts.description } : {}),
    created: new Date(now).toISOString(),
    ...(opts.ttlMs > 0 ? { expires: new Date(now + opts.ttlMs).toISOString() } : {}),
  };
  writeTokens(dataDir, [...tokens.filter((t) => t.id !== id), stored], now);
  return { token, stored };
}

/**
 * Deletes a token by id (or by the whole token). Throws TokenError when there is none; deleting
 * an expired one says it had expired (it is gone either way).
 */
export function deleteToken(dataDir: string, idOrToken: string, now: number = Date.now()): void {
  const id = idOrToken.includes('.') ? parseToken(idOrToken).id : idOrToken;
  if (!ID_RE.test(id)) throw new TokenError(`invalid token id "${idOrToken}": expected 6 characters of a-z, 0-9`);
  const tokens = readTokens(dataDir);
  const found = tokens.find((t) => t.id === id);
  if (!found || isExpired(found, now)) {
    if (found) writeTokens(dataDir, tokens, now);
    throw new TokenError(`token "${id}" not found`);
  }
  writeTokens(dataDir, tokens.filter((t) => t.id !== id), now);
}

/**
 * Checks a presented token against the store: returns its record, or throws TokenError saying
 * whether it was malformed, unknown, wrong or expired (the secret is compared in constant time).
 */
export function verifyToken(dataDir: string, token: string, now: number = Date.now()): StoredToken {
  const { id, secret } = parseToken(token);
  const found = readTokens(dataDir).find((t) => t.id === id);
  const given = Buffer.from(hashSecret(secret), 'hex');
  if (!found || !timingSafeEqual(given, Buffer.from(found.secretSha256, 'hex'))) {
    throw new TokenError(`token "${id}" is not valid: unknown id or wrong secret (mk token list shows the cluster's tokens)`);
  }
  if (isExpired(found, now)) throw new TokenError(`token "${id}" expired at ${found.expires}: make a new one with mk token create`);
  return found;
}
