import { LAST_APPLIED_ANNOTATION, type KubeObject } from '../../messages';
import { toYaml } from './format';
import { maskSecrets } from './mask-secrets';
import { unifiedDiff } from './unified-diff';

const secret = (data: Record<string, string>, applied?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default', ...(applied ? { annotations: { [LAST_APPLIED_ANNOTATION]: applied, keep: 'me' } } : {}) },
  data,
} as unknown as KubeObject);

describe('mk diff masks Secrets', () => {
  it('shows which keys change, never a value', () => {
    const live = secret({ same: 'c2FtZQ==', changed: 'b2xk', gone: 'Z29uZQ==' }, '{"data":{"changed":"b2xk"}}');
    const merged = secret({ same: 'c2FtZQ==', changed: 'bmV3', added: 'YWRk' }, '{"data":{"changed":"bmV3"}}');
    const [before, after] = maskSecrets(live, merged);
    expect((before as unknown as { data: unknown }).data).toEqual({ same: '***', changed: '*** (before)', gone: '***' });
    expect((after as unknown as { data: unknown }).data).toEqual({ same: '***', changed: '*** (after)', added: '***' });
    expect(before!.metadata.annotations).toEqual({ [LAST_APPLIED_ANNOTATION]: '*** (before)', keep: 'me' });
    expect(after!.metadata.annotations).toEqual({ [LAST_APPLIED_ANNOTATION]: '*** (after)', keep: 'me' });
    const text = unifiedDiff(toYaml(before!), toYaml(after!), 'LIVE', 'MERGED');
    expect(text).toContain("-  changed: '*** (before)'");
    expect(text).toContain("+  added: '***'");
    for (const v of ['c2FtZQ', 'b2xk', 'bmV3', 'YWRk', 'Z29uZQ']) expect(text).not.toContain(v);
    // The objects given are not edited.
    expect((live as unknown as { data: Record<string, string> }).data.changed).toBe('b2xk');
  });

  it('masks a Secret about to be created, and leaves other kinds alone', () => {
    const [before, after] = maskSecrets(undefined, secret({ a: 'YQ==' }));
    expect(before).toBeUndefined();
    expect((after as unknown as { data: unknown }).data).toEqual({ a: '***' });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'shown' } } as unknown as KubeObject;
    expect(maskSecrets(cm, cm)).toEqual([cm, cm]);
  });
});
