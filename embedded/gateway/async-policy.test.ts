import { afterTry, afterTryOnce, checkAsyncId, checkCallbackUrl, parseAsyncRequest } from './async-policy';

describe('afterTry', () => {
  it('a 2xx succeeded, a 4xx is final, a 5xx is retried with the backoff of its try until the last', () => {
    expect(afterTry(200, 1)).toEqual({ kind: 'succeeded' });
    expect(afterTry(204, 4)).toEqual({ kind: 'succeeded' });
    expect(afterTry(400, 1)).toEqual({ kind: 'failed' });
    expect(afterTry(404, 1)).toEqual({ kind: 'failed' });
    expect(afterTry(500, 1)).toEqual({ kind: 'retry', delayMs: 1000 });
    expect(afterTry(502, 2)).toEqual({ kind: 'retry', delayMs: 5000 });
    expect(afterTry(504, 3)).toEqual({ kind: 'retry', delayMs: 15_000 });
    expect(afterTry(500, 4)).toEqual({ kind: 'dead' });
    expect(afterTry(503, 9)).toEqual({ kind: 'dead' });
  });

  it('takes the last wait for tries past the backoff list, and other limits', () => {
    expect(afterTry(500, 5, 10, [100, 200])).toEqual({ kind: 'retry', delayMs: 200 });
    expect(afterTry(500, 1, 1)).toEqual({ kind: 'dead' });
    expect(afterTry(500, 1, 3, [])).toEqual({ kind: 'retry', delayMs: 0 });
  });
});

describe('parseAsyncRequest', () => {
  const q = (s: string): URLSearchParams => new URLSearchParams(s);

  it('is sync unless ?async=true or X-Mk-Async: true', () => {
    expect(parseAsyncRequest(q(''), {})).toEqual({ async: false });
    expect(parseAsyncRequest(q('async=false'), {})).toEqual({ async: false });
    expect(parseAsyncRequest(q('async=true'), {})).toEqual({ async: true });
    expect(parseAsyncRequest(q('async=1'), {})).toEqual({ async: true });
    expect(parseAsyncRequest(q(''), { 'x-mk-async': 'TRUE' })).toEqual({ async: true });
  });

  it('reads the id and callback from headers first, then the query', () => {
    expect(parseAsyncRequest(q('async=true&id=q1&callback=http://127.0.0.1:9/x'), {})).toEqual({ async: true, id: 'q1', callback: 'http://127.0.0.1:9/x' });
    expect(parseAsyncRequest(q('async=true&id=q1'), { 'x-mk-idempotency-key': 'h1', 'x-callback-url': 'https://example.test/cb' }))
      .toEqual({ async: true, id: 'h1', callback: 'https://example.test/cb' });
    expect(parseAsyncRequest(q('async=true'), { 'x-mk-idempotency-key': ['a1', 'a2'] })).toEqual({ async: true, id: 'a1' });
  });

  it('refuses an id or callback on a sync call, a malformed id and a callback that is not http(s)', () => {
    expect(parseAsyncRequest(q('id=x'), {})).toEqual({ error: expect.stringContaining('needs an async call') });
    expect(parseAsyncRequest(q('async=true'), { 'x-mk-idempotency-key': 'a b' })).toEqual({ error: expect.stringContaining('invalid idempotency key') });
    expect(parseAsyncRequest(q('async=true'), { 'x-callback-url': 'ftp://h/x' })).toEqual({ error: expect.stringContaining('only http and https') });
    expect(parseAsyncRequest(q('async=true'), { 'x-callback-url': 'not a url' })).toEqual({ error: expect.stringContaining('absolute http') });
  });
});

describe('checkAsyncId and checkCallbackUrl', () => {
  it('accept letters, digits, - and _ up to 128, and absolute http(s) URLs', () => {
    expect(checkAsyncId(undefined)).toBeUndefined();
    expect(checkAsyncId('Abc_1-2')).toBeUndefined();
    expect(checkAsyncId('x'.repeat(128))).toBeUndefined();
    expect(checkAsyncId('x'.repeat(129))).toMatch(/invalid/);
    expect(checkAsyncId('a.b')).toMatch(/invalid/);
    expect(checkAsyncId('')).toMatch(/invalid/);
    expect(checkCallbackUrl('http://127.0.0.1:8080/cb?x=1')).toBeUndefined();
    expect(checkCallbackUrl('javascript:alert(1)')).toMatch(/only http and https/);
    expect(checkCallbackUrl('/relative')).toMatch(/absolute/);
  });
});

describe('afterTryOnce', () => {
  it('takes the function\'s own answer as final, a failure included, and never dead-letters', () => {
    expect(afterTryOnce(200, 1)).toEqual({ kind: 'succeeded' });
    expect(afterTryOnce(500, 1)).toEqual({ kind: 'failed' });
    expect(afterTryOnce(504, 1)).toEqual({ kind: 'failed' });
    expect(afterTryOnce(400, 1)).toEqual({ kind: 'failed' });
  });

  it('tries again an answer that says the call never reached the function, while tries are left', () => {
    expect(afterTryOnce(404, 1, 4, [100, 200])).toEqual({ kind: 'retry', delayMs: 100 });
    expect(afterTryOnce(503, 3, 4, [100, 200])).toEqual({ kind: 'retry', delayMs: 200 });
    expect(afterTryOnce(429, 4, 4, [100, 200])).toEqual({ kind: 'failed' });
  });

  it('tries again a 504 that never reached an instance, but not a 504 an instance held', () => {
    expect(afterTryOnce(504, 1, 4, [100, 200], false)).toEqual({ kind: 'retry', delayMs: 100 });
    expect(afterTryOnce(504, 4, 4, [100, 200], false)).toEqual({ kind: 'failed' });
    expect(afterTryOnce(504, 1, 4, [100, 200], true)).toEqual({ kind: 'failed' });
  });
});
