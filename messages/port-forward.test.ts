import { decodeFrame, encodeFrame, isPortForwardStreamId, portForwardStreamSubject, type Frame } from './port-forward';

describe('port-forward frames', () => {
  it('round-trip every type', () => {
    const frames: Frame[] = [
      { type: 'data', seq: 1, data: Uint8Array.from([0, 1, 2, 255]) },
      { type: 'data', seq: 2 ** 32 - 1, data: new Uint8Array(0) },
      { type: 'ack', seq: 0 },
      { type: 'eof', seq: 7 },
      { type: 'close', reason: 'pod went away: ü' },
      { type: 'ping' },
    ];
    for (const f of frames) expect(decodeFrame(encodeFrame(f))).toEqual(f);
  });

  it('reads a frame inside a larger buffer (as a message payload may be)', () => {
    const big = new Uint8Array(16);
    big.set(encodeFrame({ type: 'ack', seq: 513 }), 3);
    expect(decodeFrame(big.subarray(3, 8))).toEqual({ type: 'ack', seq: 513 });
  });

  it('refuses bytes that are no frame', () => {
    expect(() => decodeFrame(new Uint8Array(0))).toThrow('empty frame');
    expect(() => decodeFrame(Uint8Array.of(2, 0, 0))).toThrow('too short for its sequence number');
    expect(() => decodeFrame(Uint8Array.of(9))).toThrow('unknown frame type 9');
  });

  it('names stream subjects and checks stream ids', () => {
    expect(portForwardStreamSubject('n1', 'ab'.repeat(16), 'up')).toBe(`mk.node.n1.portforward.${'ab'.repeat(16)}.up`);
    expect(isPortForwardStreamId('ab'.repeat(16))).toBe(true);
    expect(isPortForwardStreamId('*')).toBe(false);
    expect(isPortForwardStreamId('AB'.repeat(16))).toBe(false);
  });
});
