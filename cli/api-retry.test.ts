import { errors as natsErrors } from '@nats-io/transport-node';
import { translateCoreError } from '../bus/core-errors';
import { NotFoundError, TimeoutError, UnavailableError } from '../messages/errors';
import { READ_TRY_MS, replyLost, retryRead, retryUntaken } from './api-retry';

const noResponders = () => translateCoreError(new natsErrors.NoRespondersError('mk.api.apply'), { action: 'request mk.api.apply', subject: 'mk.api.apply' });
const timeout = () => new TimeoutError('request mk.api.get: no reply');

describe('api retries', () => {
  it('tells a lost reply (maybe done) from no responders (not done)', () => {
    expect(replyLost(timeout())).toBe(true);
    expect(replyLost(new UnavailableError('request: the bus connection is closed'))).toBe(true);
    expect(replyLost(noResponders())).toBe(false);
    expect(replyLost(new NotFoundError('pods "x" not found'))).toBe(false);
  });

  it('tries a read again after a timeout, each try shorter than the budget', async () => {
    const tries: number[] = [];
    const out = await retryRead(async (t) => {
      tries.push(t);
      if (tries.length < 3) throw timeout();
      return 'ok';
    }, 15_000);
    expect(out).toBe('ok');
    expect(tries).toHaveLength(3);
    expect(tries[0]).toBe(READ_TRY_MS);
  });

  it('does not try a read again for an answer (NotFound)', async () => {
    let n = 0;
    await expect(retryRead(async () => { n++; throw new NotFoundError('gone'); }, 15_000)).rejects.toThrow('gone');
    expect(n).toBe(1);
  });

  it('gives up on a read when the budget is spent, with the last error', async () => {
    let clock = 0;
    await expect(retryRead(async () => { clock += 6000; throw timeout(); }, 15_000, () => clock)).rejects.toThrow(/no reply/);
    expect(clock).toBe(18_000);
  });

  it('sends a write again only while nothing took it', async () => {
    let n = 0;
    expect(await retryUntaken(async () => { n++; if (n < 3) throw noResponders(); return 'created'; }, 15_000)).toBe('created');
    expect(n).toBe(3);
    let m = 0;
    await expect(retryUntaken(async () => { m++; throw timeout(); }, 15_000)).rejects.toThrow(/no reply/);
    expect(m).toBe(1);
  });
});
