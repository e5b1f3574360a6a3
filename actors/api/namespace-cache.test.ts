import type { InformerEvent } from '../../bus';
import type { KubeObject } from '../../messages';
import { NamespaceCache } from './namespace-cache';

const put = (name: string, revision: number, terminating = false): InformerEvent<KubeObject> => ({
  type: 'PUT', key: `namespaces._cluster.${name}`, revision,
  object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(terminating ? { deletionTimestamp: '2026-11-30T00:00:00Z' } : {}) } },
});
const del = (name: string, revision: number): InformerEvent<KubeObject> => ({ type: 'DELETE', key: `namespaces._cluster.${name}`, revision, object: null });

describe('NamespaceCache', () => {
  it('knows a namespace as active only while it exists and is not being deleted', () => {
    const c = new NamespaceCache();
    expect(c.isActive('a')).toBe(false);
    c.observe(put('a', 1));
    expect(c.isActive('a')).toBe(true);
    c.observe(put('a', 2, true));
    expect(c.isActive('a')).toBe(false);
    c.observe(put('b', 3));
    c.observe(del('b', 4));
    expect(c.isActive('b')).toBe(false);
  });

  it('does not take a namespace the api is deleting for active on an older event', () => {
    const c = new NamespaceCache();
    c.observe(put('a', 1));
    c.forget('a');
    expect(c.isActive('a')).toBe(false);
    // A late delivery from before the deletion, before and after its revision is known.
    c.observe(put('a', 1));
    expect(c.isActive('a')).toBe(false);
    c.trustFrom('a', 5);
    c.observe(put('a', 4));
    expect(c.isActive('a')).toBe(false);
    // The mark itself, then the namespace made again: trusted from the mark on.
    c.observe(put('a', 5, true));
    expect(c.isActive('a')).toBe(false);
    c.observe(put('a', 9));
    expect(c.isActive('a')).toBe(true);
  });

  it('stays unknown (read from the store) when the mark was delivered before its revision was known', () => {
    const c = new NamespaceCache();
    c.observe(put('a', 1));
    c.forget('a');
    c.observe(put('a', 5, true));
    c.trustFrom('a', 5);
    expect(c.isActive('a')).toBe(false);
    c.observe(del('a', 6));
    c.observe(put('a', 7));
    expect(c.isActive('a')).toBe(true);
  });
});
