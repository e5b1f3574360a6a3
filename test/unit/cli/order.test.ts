/**
 * `mk get`'s order (cli/output/order.ts): by namespace, then name, exactly as localeCompare in the
 * user's locale, whether or not ICU is asked.
 */
import { codePointCollation, sortByNamespaceAndName } from '../../../cli/output/order';
import type { KubeObject } from '../../../messages';

const obj = (namespace: string | undefined, name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(namespace ? { namespace } : {}) } });
const keys = (os: KubeObject[]) => os.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`);

describe('sortByNamespaceAndName', () => {
  it('knows which locales collate DNS names as code points', () => {
    expect(codePointCollation({})).toBe(true);
    expect(codePointCollation({ LANG: 'C.UTF-8' })).toBe(true);
    expect(codePointCollation({ LANG: 'en_GB.UTF-8', LC_ALL: 'POSIX' })).toBe(true);
    expect(codePointCollation({ LANG: 'C', LC_MESSAGES: 'cs_CZ.UTF-8' })).toBe(false);
    expect(codePointCollation({ LANG: 'da_DK.UTF-8' })).toBe(false);
  });

  it('gives localeCompare\'s order for DNS names in the C and English locales', () => {
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789-.';
    let seed = 7;
    const next = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
    const word = () => Array.from({ length: 1 + (next() % 6) }, () => chars[next() % chars.length]).join('');
    const objects = Array.from({ length: 400 }, () => obj(next() % 3 ? word() : undefined, word()));
    const byIcu = [...objects].sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '', 'en')
      || a.metadata.name.localeCompare(b.metadata.name, 'en'));
    expect(keys(sortByNamespaceAndName([...objects], { LANG: 'en_US.UTF-8' }))).toEqual(keys(byIcu));
    expect(keys(sortByNamespaceAndName([...objects], { LANG: 'C' }))).toEqual(keys(byIcu));
  });

  it('asks ICU only for other locales and other characters', () => {
    const spy = jest.spyOn(String.prototype, 'localeCompare');
    try {
      sortByNamespaceAndName([obj('default', 'web-2'), obj('kube-system', 'dns'), obj('default', 'web-1')], { LANG: 'en_US.UTF-8' });
      expect(spy).not.toHaveBeenCalled();
      // In Czech, "ch" is one letter that sorts after "h": only ICU knows.
      sortByNamespaceAndName([obj('default', 'hello'), obj('default', 'chat')], { LANG: 'C', LC_MESSAGES: 'cs_CZ.UTF-8' });
      expect(spy).toHaveBeenCalled();
      spy.mockClear();
      const mixed = sortByNamespaceAndName([obj('default', 'b'), obj('default', 'B'), obj('default', 'a')], { LANG: 'C' });
      expect(spy).toHaveBeenCalled();
      expect(keys(mixed)).toEqual(['default/a', 'default/b', 'default/B'].sort((x, y) => x.localeCompare(y)));
    } finally {
      spy.mockRestore();
    }
  });
});
