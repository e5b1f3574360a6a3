/**
 * Single-use tokens that open a write session of the dashboard. `mk dashboard` asks the control
 * plane for one (mk.dashboard.token); the page POSTs it to /session; the server redeems it once.
 * Tokens live in a KV bucket (any control plane's dashboard can redeem one) under the SHA-256 of
 * the token, so the bucket never holds a usable secret; the bucket's TTL drops unused ones, and
 * redemption deletes the key with its expected revision, so a second use, here or on another
 * control plane, finds nothing or loses the race.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DASHBOARD_TOKEN_SUBJECT } from '../../messages/subjects';

/** How long a token may wait for its redemption. */
export const TOKEN_TTL_MS = 2 * 60_000;
/** The KV bucket of unredeemed tokens. */
export const TOKENS_BUCKET = 'mk-dashboard-tokens';
/** Request/reply: a fresh token (TokenReply), served by every control plane; admin may ask. */
export const TOKEN_SUBJECT = DASHBOARD_TOKEN_SUBJECT;

/** mk.dashboard.token's answer. */
export interface TokenReply { token: string; expiresAt: string }

/** What the tokens need of a KV bucket (the real one, or a fake in tests). */
export interface TokenKv {
  /** Creates `key`; throws when present. Returns the revision. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** The live value and its revision, or null (absent or deleted). */
  get(key: string): Promise<{ value: Uint8Array; revision: number } | null>;
  /** Deletes `key` if it is still at `revision`; throws otherwise. */
  delete(key: string, revision: number): Promise<void>;
}

interface Stored { expiresAt: number }

/** The digest a token is kept under. */
function keyOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Mints and redeems tokens. `now` is the clock (tests give a fake one). */
export class DashboardTokens {
  constructor(private readonly kv: TokenKv, private readonly now: () => number = Date.now, private readonly ttlMs = TOKEN_TTL_MS) {}

  /** A fresh token, valid for one redemption within the TTL. */
  async mint(): Promise<TokenReply> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    await this.kv.create(keyOf(token), new TextEncoder().encode(JSON.stringify({ expiresAt } satisfies Stored)));
    return { token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Redeems `token`: true the first time within its TTL, false when unknown, used or expired.
   * Never throws for a bad token; throws when the bucket cannot be reached.
   */
  async redeem(token: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) return false;
    const key = keyOf(token);
    const e = await this.kv.get(key);
    if (!e) return false;
    let stored: Stored;
    try {
      stored = JSON.parse(new TextDecoder().decode(e.value)) as Stored;
    } catch {
      return false;
    }
    try {
      // Whoever deletes at this revision redeemed it; a concurrent redemption fails here.
      await this.kv.delete(key, e.revision);
    } catch {
      return false;
    }
    return typeof stored.expiresAt === 'number' && this.now() <= stored.expiresAt;
  }
}
