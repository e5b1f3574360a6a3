import { drainable, UNDATED_VIEW_SETTLE_MS, type DrainInput, type GatewayView } from './drain';

const since = 1_000_000;
const base: DrainInput = { pod: 'p', since, timeoutMs: 60_000, views: [], now: since + 100 };

describe('drainable', () => {
  it('goes when every live gateway listed after the mark and has no call on the pod', () => {
    const views: GatewayView[] = [{ gateway: 'a', viewAt: since + 10, at: since + 50, pods: {} }, { gateway: 'b', viewAt: since + 20, at: since + 60, pods: { other: 2 } }];
    expect(drainable({ ...base, views })).toBe(true);
    // With no live gateway nothing can send it a call.
    expect(drainable(base)).toBe(true);
  });

  it('stays while one gateway listed before the mark, or before the controller saw the mark committed', () => {
    const fresh = { gateway: 'a', viewAt: since + 10, at: since + 50, pods: {} };
    expect(drainable({ ...base, views: [fresh, { gateway: 'b', viewAt: since - 1, at: since + 60, pods: {} }] })).toBe(false);
    expect(drainable({ ...base, markedAt: since + 30, views: [fresh] })).toBe(false);
    expect(drainable({ ...base, markedAt: since + 5, views: [fresh] })).toBe(true);
  });

  it('stays while a gateway has a call on it', () => {
    expect(drainable({ ...base, views: [{ gateway: 'a', viewAt: since + 10, at: since + 50, pods: { p: 1 } }] })).toBe(false);
  });

  it('goes at the timeout after the last call seen on it, whatever the views say', () => {
    const stuck = [{ gateway: 'a', viewAt: since - 1, at: since + 50, pods: { p: 1 } }];
    expect(drainable({ ...base, views: stuck, now: since + 59_999 })).toBe(false);
    expect(drainable({ ...base, views: stuck, now: since + 60_000 })).toBe(true);
    expect(drainable({ ...base, views: stuck, lastCall: since + 30_000, now: since + 60_000 })).toBe(false);
    expect(drainable({ ...base, views: stuck, lastCall: since + 30_000, now: since + 90_000 })).toBe(true);
  });

  it('trusts a gateway that reports no viewAt after the settle time only', () => {
    const undated = [{ gateway: 'old', at: since + 50, pods: {} }];
    expect(drainable({ ...base, views: undated, now: since + UNDATED_VIEW_SETTLE_MS - 1 })).toBe(false);
    expect(drainable({ ...base, views: undated, now: since + UNDATED_VIEW_SETTLE_MS })).toBe(true);
  });
});
