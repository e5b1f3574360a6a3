import { ConflictError, ErrorCodes, MkError, ValidationError } from '../messages/errors';
import { decode, encode, errorBody, okReply, unwrap } from './request';

describe('envelopes', () => {
  it('encodes JSON and decodes it back; empty is undefined', () => {
    expect(decode(encode({ a: [1, 'x'] }))).toEqual({ a: [1, 'x'] });
    expect(encode(undefined)).toHaveLength(0);
    expect(decode(new Uint8Array(0))).toBeUndefined();
    expect(() => decode(new TextEncoder().encode('{'))).toThrow(SyntaxError);
  });

  it('wraps results and errors', () => {
    expect(okReply({ object: 1 })).toEqual({ ok: true, object: 1 });
    expect(okReply(undefined)).toEqual({ ok: true });
    expect(okReply({ ok: false, x: 1 })).toEqual({ ok: true, x: 1 });
    expect(errorBody(new ValidationError('bad', ['a: b']))).toEqual({ code: ErrorCodes.Validation, message: 'bad', issues: ['a: b'] });
    expect(errorBody(new ConflictError('stale'))).toEqual({ code: ErrorCodes.Conflict, message: 'stale' });
    expect(errorBody(new TypeError('boom'))).toEqual({ code: ErrorCodes.Internal, message: 'boom' });
  });

  it('unwraps ok replies and throws the carried error class', () => {
    expect(unwrap('s', encode({ ok: true, items: [] }))).toEqual({ items: [] });
    expect(() => unwrap('s', encode({ ok: false, error: { code: 'Conflict', message: 'stale' } }))).toThrow(ConflictError);
    let err: unknown;
    try { unwrap('s', encode({ ok: false, error: { code: 'Invalid', message: 'bad', issues: ['x'] } })); } catch (e) { err = e; }
    expect((err as ValidationError).issues).toEqual(['x']);
    expect(() => unwrap('mk.api.get', encode([1]))).toThrow(/malformed reply from mk.api.get/);
    expect(() => unwrap('mk.api.get', new TextEncoder().encode('{'))).toThrow(MkError);
  });
});
