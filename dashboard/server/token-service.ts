/**
 * The control plane's side of the write tokens: the bucket (made with a TTL, so unredeemed tokens
 * expire by themselves) and mk.dashboard.token, which mints one. Served by every control plane
 * (queue group), through the control plane's own identity, which may write the bucket.
 */
import { Kvm, type KV } from '@nats-io/kv';
import { serve, translateError, type Bus, type Served } from '../../bus';
import { DashboardTokens, TOKEN_SUBJECT, TOKEN_TTL_MS, TOKENS_BUCKET, type TokenKv, type TokenReply } from './tokens';

/** The tokens bucket as TokenKv. */
function tokenKv(kv: KV): TokenKv {
  return {
    create: (key, value) => kv.create(key, value),
    async get(key) {
      const e = await kv.get(key);
      return e && e.operation === 'PUT' ? { value: e.value, revision: e.revision } : null;
    },
    delete: (key, revision) => kv.delete(key, { previousSeq: revision }),
  };
}

/** Opens (making when missing) the tokens bucket and serves mk.dashboard.token. */
export async function serveDashboardTokens(bus: Bus): Promise<{ tokens: DashboardTokens; served: Served }> {
  let kv: KV;
  try {
    kv = await new Kvm(bus.js).create(TOKENS_BUCKET, {
      history: 1, ttl: TOKEN_TTL_MS, replicas: bus.replicas ?? 1, description: 'mk: unredeemed dashboard write tokens (by digest)',
    });
  } catch (err) {
    throw translateError(err, { action: `open bucket ${TOKENS_BUCKET}` });
  }
  const tokens = new DashboardTokens(tokenKv(kv));
  const served = serve<unknown, TokenReply>(bus, TOKEN_SUBJECT, () => tokens.mint(), { queue: 'mk-dashboard' });
  return { tokens, served };
}
