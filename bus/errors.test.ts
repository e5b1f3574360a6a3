import { JetStreamApiError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import {
  AlreadyExistsError, ConflictError, ErrorCodes, MkError, NotFoundError, TimeoutError, UnavailableError, ValidationError,
} from '../messages/errors';
import { connectError, JsApiCodes, jsApiCode, translateError } from './errors';

const apiError = (code: number, description = 'x') => new JetStreamApiError({ code: 400, err_code: code, description });

describe('translateError', () => {
  it('maps JetStream API codes through the named map', () => {
    expect(translateError(apiError(JsApiCodes.WrongLastSequence, 'wrong last sequence: 4'), { action: 'update k' }))
      .toBeInstanceOf(ConflictError);
    expect(translateError(apiError(JsApiCodes.WrongLastSequence), { action: 'create k', create: true }))
      .toBeInstanceOf(AlreadyExistsError);
    expect(translateError(apiError(JsApiCodes.NoMessageFound), { action: 'get' })).toBeInstanceOf(NotFoundError);
    expect(translateError(apiError(JsApiCodes.StreamNotFound), { action: 'get' })).toBeInstanceOf(NotFoundError);
    expect(translateError(apiError(JsApiCodes.StreamNameInUse), { action: 'open' })).toBeInstanceOf(AlreadyExistsError);
    expect(translateError(apiError(JsApiCodes.MessageExceedsMaximum), { action: 'put' })).toBeInstanceOf(ValidationError);
    const other = translateError(apiError(12345, 'odd'), { action: 'do' });
    expect(other.code).toBe(ErrorCodes.Internal);
    expect(other.message).toBe('do: JetStream error 12345: odd');
    expect(jsApiCode(apiError(10071))).toBe(10071);
    expect(jsApiCode(new Error('x'))).toBeUndefined();
  });

  it('keeps the original error as the cause and passes MkErrors through', () => {
    const orig = apiError(JsApiCodes.WrongLastSequence);
    expect(translateError(orig, { action: 'u' }).cause).toBe(orig);
    const mk = new NotFoundError('nope');
    expect(translateError(mk, { action: 'u' })).toBe(mk);
  });

  it('names the subject for no responders and timeouts', () => {
    const noResp = new natsErrors.RequestError('no responders', { cause: new natsErrors.NoRespondersError('mk.node.a.logs') });
    const u = translateError(noResp, { action: 'request mk.node.a.logs', subject: 'mk.node.a.logs' });
    expect(u).toBeInstanceOf(UnavailableError);
    expect(u.message).toBe('nothing is serving mk.node.a.logs: is the node agent running?');
    const t = translateError(new natsErrors.TimeoutError(), { action: 'request mk.api.get', subject: 'mk.api.get', timeoutMs: 250 });
    expect(t).toBeInstanceOf(TimeoutError);
    expect(t.message).toMatch(/within 250 ms from mk\.api\.get/);
  });

  it('makes connection and authorization problems Unavailable', () => {
    expect(translateError(new natsErrors.ClosedConnectionError(), { action: 'get' })).toBeInstanceOf(UnavailableError);
    expect(translateError(new natsErrors.AuthorizationError('Authorization Violation'), { action: 'get' }).message).toMatch(/authorization failed/);
    expect(translateError(new Error('weird'), { action: 'get' })).toBeInstanceOf(MkError);
  });

  it('words first-connect failures for the user', () => {
    expect(connectError(new natsErrors.ConnectionError('connection refused'), 'nats://127.0.0.1:4222').message)
      .toBe('cannot reach the bus at nats://127.0.0.1:4222: connection refused (is the cluster up? run `mk up`)');
    expect(connectError(new natsErrors.AuthorizationError('Authorization Violation'), 'nats://h:1').message)
      .toMatch(/^authorization failed at the bus nats:\/\/h:1/);
  });
});
