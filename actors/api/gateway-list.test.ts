import { isForbidden } from '../../messages';
import { gatewayList, type ApiContext } from './handlers';

/** A context whose store must never be read: every list asked for here is refused first. */
const untouched = new Proxy({}, { get: () => { throw new Error('the store was read'); } }) as unknown as ApiContext;

describe('mk.api.gateway.list', () => {
  it('refuses every list but functions and pods by the mk.io/function label, before reading anything', async () => {
    for (const req of [
      { kind: 'secrets' }, { kind: 'configmaps' }, { kind: 'pods' }, { kind: 'pods', labelSelector: 'app=web' },
      { kind: 'pods', labelSelector: 'mk.io/function,app=web' }, { kind: 'pods', labelSelector: 'mk.io/function', fieldSelector: 'spec.nodeName=n1' },
      { kind: 'functions', labelSelector: 'a=b' },
    ]) {
      const err = await gatewayList(untouched, req).then(() => undefined, (e: unknown) => e);
      expect(isForbidden(err)).toBe(true);
    }
    await expect(gatewayList(untouched, { kind: 'secrets' })).rejects.toThrow('a gateway may list only functions, and pods by the label mk.io/function: not secrets');
  });
});
