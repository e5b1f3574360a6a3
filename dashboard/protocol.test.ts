import { MAX_FRAME_BYTES, parseClientMessage } from './protocol';

describe('parseClientMessage', () => {
  it('reads a subscribe with defaults filled in', () => {
    const r = parseClientMessage(JSON.stringify({ type: 'subscribe', id: 1, params: { topic: 'tree' } }));
    expect(r).toEqual({
      ok: true,
      message: {
        type: 'subscribe', id: 1,
        params: { topic: 'tree', hideSystem: false, sort: 'path', offset: 0, limit: 100 },
      },
    });
  });

  it('names garbage, unknown types and unknown topics', () => {
    const notJson = parseClientMessage('{nope');
    expect(notJson.ok || notJson.error.error).toMatchObject({ code: 'BadRequest', message: expect.stringContaining('not JSON') });
    const arr = parseClientMessage('[1]');
    expect(arr.ok || arr.error.error.message).toBe('frame is not a JSON object');
    const type = parseClientMessage(JSON.stringify({ type: 'launch', id: 4 }));
    expect(type.ok || type.error).toMatchObject({ id: 4, error: { code: 'UnknownType', message: expect.stringContaining('"launch"') } });
    const topic = parseClientMessage(JSON.stringify({ type: 'subscribe', id: 5, params: { topic: 'weather' } }));
    expect(topic.ok || topic.error).toMatchObject({ id: 5, error: { code: 'UnknownTopic', message: expect.stringContaining('"weather"') } });
  });

  it('names the field that breaks the schema', () => {
    const r = parseClientMessage(JSON.stringify({ type: 'subscribe', id: 2, params: { topic: 'objects', kind: 'pods', limit: 501 } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.id).toBe(2);
    expect(r.error.error.code).toBe('BadRequest');
    expect(r.error.error.message).toContain('params.limit');
    const extra = parseClientMessage(JSON.stringify({ type: 'unsubscribe', id: 3, sub: 1, bogus: true }));
    expect(extra.ok || extra.error.error.message).toContain('bogus');
  });

  it('refuses an oversize frame before parsing it', () => {
    const big = JSON.stringify({ type: 'apply', id: 1, text: 'x'.repeat(MAX_FRAME_BYTES) });
    const r = parseClientMessage(big);
    expect(r.ok || r.error.error.code).toBe('TooLarge');
  });
});
