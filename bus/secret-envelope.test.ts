import { isValidation } from '../messages/errors';
import {
  ENVELOPE_PREFIX, generateKey, isEncryptionError, isSealed, KEY_BYTES, KeyRing, sealedKeyId,
} from './secret-envelope';

const te = new TextEncoder();
const td = new TextDecoder();
const KEY = 'secrets.default.db';
const plain = te.encode('{"data":{"password":"aHVudGVyMg=="}}');

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('AES-256-GCM envelope', () => {
  it('round trips, names its key, and never shows the plain text', () => {
    const ring = new KeyRing([generateKey('k1')]);
    const sealed = ring.seal(KEY, plain);
    const text = td.decode(sealed);
    expect(text.startsWith(`${ENVELOPE_PREFIX}k1:`)).toBe(true);
    expect(text).not.toContain('aHVudGVyMg');
    expect(text).not.toContain('password');
    expect(isSealed(sealed)).toBe(true);
    expect(isSealed(plain)).toBe(false);
    expect(sealedKeyId(sealed)).toBe('k1');
    expect(td.decode(ring.open(KEY, sealed))).toBe(td.decode(plain));
  });

  it('uses a fresh IV on every write', () => {
    const ring = new KeyRing([generateKey('k1')]);
    expect(td.decode(ring.seal(KEY, plain))).not.toBe(td.decode(ring.seal(KEY, plain)));
  });

  it('detects tampering: a changed byte, a truncated value, a value moved under another key', () => {
    const ring = new KeyRing([generateKey('k1')]);
    const text = td.decode(ring.seal(KEY, plain));
    const body = Buffer.from(text.slice(`${ENVELOPE_PREFIX}k1:`.length), 'base64');
    body[body.length - 20] ^= 1;
    const altered = te.encode(`${ENVELOPE_PREFIX}k1:${body.toString('base64')}`);
    const e = errorOf(() => ring.open(KEY, altered));
    expect(isEncryptionError(e)).toBe(true);
    expect(e.message).toMatch(/secrets.default.db: the encrypted value does not authenticate with key "k1"/);
    expect(errorOf(() => ring.open(KEY, te.encode(`${ENVELOPE_PREFIX}k1:AAAA`))).message).toMatch(/truncated/);
    expect(errorOf(() => ring.open('secrets.default.other', te.encode(text))).message).toMatch(/does not authenticate/);
    expect(errorOf(() => ring.open(KEY, te.encode(`${ENVELOPE_PREFIX}:xyz`))).message).toMatch(/malformed/);
  });

  it('refuses a value sealed with a key it does not hold, or with another key of the same id', () => {
    const sealed = new KeyRing([generateKey('k1')]).seal(KEY, plain);
    const e = errorOf(() => new KeyRing([generateKey('k2')], '/data/encryption-keys.json').open(KEY, sealed));
    expect(isEncryptionError(e)).toBe(true);
    expect(e.message).toContain('encrypted with key "k1", which /data/encryption-keys.json does not hold (it holds k2)');
    expect(errorOf(() => new KeyRing([generateKey('k1')]).open(KEY, sealed)).message).toMatch(/does not authenticate/);
  });

  it('rotates: writes seal with the newest key, reads open with any key the ring holds', () => {
    const old = generateKey('old');
    const sealedOld = new KeyRing([old]).seal(KEY, plain);
    const ring = new KeyRing([generateKey('new'), old]);
    expect(ring.current).toBe('new');
    expect(ring.ids()).toEqual(['new', 'old']);
    expect(td.decode(ring.open(KEY, sealedOld))).toBe(td.decode(plain));
    const sealedNew = ring.seal(KEY, plain);
    expect(sealedKeyId(sealedNew)).toBe('new');
    expect(td.decode(new KeyRing([generateKey('new2'), ...[old]]).open(KEY, sealedOld))).toBe(td.decode(plain));
  });

  it('refuses a bad ring with errors naming the problem', () => {
    expect(isValidation(errorOf(() => new KeyRing([])))).toBe(true);
    expect(errorOf(() => new KeyRing([], 'f.json')).message).toBe('f.json: it must hold at least one key');
    expect(errorOf(() => new KeyRing([{ id: 'a:b', secret: new Uint8Array(KEY_BYTES) }])).message).toMatch(/keys\[0\]\.id "a:b"/);
    expect(errorOf(() => new KeyRing([{ id: 'a', secret: new Uint8Array(16) }])).message).toMatch(/key a must be 32 bytes \(AES-256\), not 16/);
    expect(errorOf(() => new KeyRing([generateKey('a'), generateKey('a')])).message).toMatch(/"a" appears twice/);
    expect(generateKey().id).toMatch(/^[0-9a-f]{12}$/);
  });
});
