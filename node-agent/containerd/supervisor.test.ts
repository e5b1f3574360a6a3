import { existsSync } from 'node:fs';
import { ValidationError } from '../../messages/errors';
import { CONTAINERD_RESTART_BACKOFF, superviseContainerd } from './supervisor';
import { backoffDelay } from '../../common/backoff';

describe('superviseContainerd options', () => {
  const dataDir = '/nonexistent/mk-supervisor-unit';

  it('refuses a bad policy before touching anything', async () => {
    await expect(superviseContainerd({ dataDir, restartBackoff: { initialMs: 0, maxMs: 10 } })).rejects.toThrow(ValidationError);
    await expect(superviseContainerd({ dataDir, restartBackoff: { initialMs: 500, maxMs: 100 } })).rejects.toThrow(/maxMs/);
    await expect(superviseContainerd({ dataDir, pidPollMs: -1 })).rejects.toThrow(/pidPollMs/);
    await expect(superviseContainerd({ dataDir, stableAfterMs: Number.NaN })).rejects.toThrow(/stableAfterMs/);
    await expect(superviseContainerd({ dataDir, socketPath: `/tmp/${'x'.repeat(120)}.sock` })).rejects.toThrow(/too long/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('restarts 200 ms, then doubling to 10 s', () => {
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(CONTAINERD_RESTART_BACKOFF, i));
    expect(delays).toEqual([200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000, 10_000, 10_000]);
  });
});
