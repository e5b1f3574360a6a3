import { JetStreamApiError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import { ErrorCodes, MkError, TimeoutError, UnavailableError } from '../messages/errors';
import { jetStreamNotReady, untilJetStreamReady } from './connection';

const apiError = (code: number, description: string): JetStreamApiError =>
  new JetStreamApiError({ code: 503, err_code: code, description });

describe('jetStreamNotReady', () => {
  it('says why for a cluster still forming: no placement, no meta leader, no reply', () => {
    expect(jetStreamNotReady(apiError(10005, 'no suitable peers for placement'))).toMatch(/too few servers have joined/);
    expect(jetStreamNotReady(apiError(10008, 'JetStream system temporarily unavailable'))).toMatch(/no meta leader/);
    expect(jetStreamNotReady(new natsErrors.TimeoutError())).toMatch(/does not answer yet/);
    expect(jetStreamNotReady(new TimeoutError('get x: no reply'))).toMatch(/does not answer yet/);
  });

  it('looks through the causes of an error made from one', () => {
    const wrapped = new MkError(ErrorCodes.Internal, 'open bucket mk-objects: JetStream error 10005', { cause: apiError(10005, 'no suitable peers') });
    expect(jetStreamNotReady(wrapped)).toMatch(/too few servers/);
  });

  it('leaves every other error alone', () => {
    expect(jetStreamNotReady(apiError(10071, 'wrong last sequence'))).toBeUndefined();
    expect(jetStreamNotReady(new UnavailableError('authorization failed'))).toBeUndefined();
    expect(jetStreamNotReady(new Error('boom'))).toBeUndefined();
  });
});

describe('untilJetStreamReady', () => {
  const fast = { backoff: { initialMs: 1, maxMs: 2 } };

  it('tries again while JetStream is not ready, saying why, then returns the result', async () => {
    const lines: string[] = [];
    let calls = 0;
    const r = await untilJetStreamReady('make the store', async () => {
      if (++calls < 3) throw apiError(10005, 'no suitable peers for placement');
      return 'made';
    }, { ...fast, log: (_f, msg) => lines.push(msg) });
    expect(r).toBe('made');
    expect(calls).toBe(3);
    expect(lines).toEqual([
      expect.stringMatching(/^make the store: waiting, too few servers have joined/),
      expect.stringMatching(/^make the store: waiting, too few servers have joined/),
    ]);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    await expect(untilJetStreamReady('x', async () => { calls++; throw new UnavailableError('authorization failed'); }, fast))
      .rejects.toThrow(/authorization failed/);
    expect(calls).toBe(1);
  });
});
