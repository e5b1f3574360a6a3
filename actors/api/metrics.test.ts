import { NotFoundError } from '../../messages';
import { apiRequestDuration, apiRequests, requestKind, timed } from './metrics';

async function requests(labels: Record<string, string>): Promise<number> {
  const vals = (await apiRequests.get()).values;
  return vals.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((a, v) => a + v.value, 0);
}

describe('api metrics', () => {
  it('names the kind of a request by its plural, and "unknown" otherwise', () => {
    expect(requestKind({ kind: 'po', name: 'x' })).toBe('pods');
    expect(requestKind({ object: { apiVersion: 'v1', kind: 'Namespace' } })).toBe('namespaces');
    expect(requestKind({ kind: 'nonsense' })).toBe('unknown');
    expect(requestKind(null)).toBe('unknown');
  });

  it('counts every request by verb, kind and code and times it, passing results and errors through', async () => {
    const get = timed('get', async (r: { kind: string; name: string }) => {
      if (r.name === 'gone') throw new NotFoundError('pods "gone" not found');
      if (r.name === 'bug') throw new TypeError('boom');
      return { name: r.name };
    });
    await expect(get({ kind: 'pods', name: 'a' })).resolves.toEqual({ name: 'a' });
    await expect(get({ kind: 'pods', name: 'gone' })).rejects.toThrow(NotFoundError);
    await expect(get({ kind: 'pods', name: 'bug' })).rejects.toThrow(TypeError);
    expect(await requests({ verb: 'get', kind: 'pods', code: 'OK' })).toBe(1);
    expect(await requests({ verb: 'get', kind: 'pods', code: 'NotFound' })).toBe(1);
    expect(await requests({ verb: 'get', kind: 'pods', code: 'Internal' })).toBe(1);
    const count = (await apiRequestDuration.get()).values.find((v) => v.metricName === 'mk_api_request_duration_seconds_count' && v.labels.verb === 'get');
    expect(count?.value).toBe(3);
  });
});
