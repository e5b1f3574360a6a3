import type { Bus, ObjectStore } from '../../bus';
import { at, type RequestContext } from './requests';
import { FeedError } from './feed-error';

describe('the time scrubber', () => {
  it('refuses a Secret with Forbidden, before reading anything of it', async () => {
    const objects = jest.fn(async () => ({} as ObjectStore));
    const ctx: RequestContext = { bus: {} as Bus, user: 'dashboard', writable: false, objects };
    const asked = at({ type: 'at', id: 1, time: new Date().toISOString(), object: { kind: 'secrets', namespace: 'default', name: 'db' }, offset: 0, limit: 10 }, ctx);
    await expect(asked).rejects.toBeInstanceOf(FeedError);
    await expect(asked).rejects.toMatchObject({ code: 'Forbidden', message: expect.stringContaining('does not show the past states of Secrets') });
    expect(objects).not.toHaveBeenCalled();
  });
});
