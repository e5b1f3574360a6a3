import { DashboardTokens, type TokenKv } from './tokens';

/** A fake bucket with the real one's expected-revision delete. */
class FakeKv implements TokenKv {
  entries = new Map<string, { value: Uint8Array; revision: number }>();
  private rev = 0;
  async create(key: string, value: Uint8Array): Promise<number> {
    if (this.entries.has(key)) throw new Error('wrong last sequence');
    this.entries.set(key, { value, revision: ++this.rev });
    return this.rev;
  }
  async get(key: string) { return this.entries.get(key) ?? null; }
  async delete(key: string, revision: number): Promise<void> {
    if (this.entries.get(key)?.revision !== revision) throw new Error('wrong last sequence');
    this.entries.delete(key);
  }
}

describe('DashboardTokens', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('redeems a token once, and keeps only its digest', async () => {
    const kv = new FakeKv();
    const tokens = new DashboardTokens(kv, clock, 120_000);
    const { token, expiresAt } = await tokens.mint();
    expect(new Date(expiresAt).getTime()).toBe(now + 120_000);
    expect([...kv.entries.keys()][0]).not.toContain(token);
    expect(await tokens.redeem(token)).toBe(true);
    expect(await tokens.redeem(token)).toBe(false);
  });

  it('refuses an expired token, an unknown one and garbage', async () => {
    const tokens = new DashboardTokens(new FakeKv(), clock, 120_000);
    const { token } = await tokens.mint();
    now += 120_001;
    expect(await tokens.redeem(token)).toBe(false);
    expect(await tokens.redeem('A'.repeat(43))).toBe(false);
    expect(await tokens.redeem('../../etc')).toBe(false);
  });

  it('lets only one of two concurrent redemptions win', async () => {
    const kv = new FakeKv();
    const a = new DashboardTokens(kv, clock);
    const b = new DashboardTokens(kv, clock);
    const { token } = await a.mint();
    const won = await Promise.all([a.redeem(token), b.redeem(token)]);
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});
