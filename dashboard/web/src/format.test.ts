import { age, bytes, cpu, ms, percent, quantity, rate } from './format';

describe('formatting like mk get and mk top', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('prints ages in the largest sensible unit', () => {
    expect(age('2026-01-01T11:59:55Z', now)).toBe('5s');
    expect(age('2026-01-01T11:50:00Z', now)).toBe('10m');
    expect(age('2026-01-01T09:00:00Z', now)).toBe('3h');
    expect(age('2025-12-25T12:00:00Z', now)).toBe('7d');
    expect(age(undefined, now)).toBe('');
    expect(age('garbage', now)).toBe('');
  });
  it('prints CPU in millicores, memory in binary units, times and rates', () => {
    expect(cpu(250_000_000)).toBe('250m');
    expect(bytes(512)).toBe('512');
    expect(bytes(1536)).toBe('1.5Ki');
    expect(bytes(200 * 2 ** 20)).toBe('200Mi');
    expect(ms(0.123)).toBe('0.12ms');
    expect(ms(3.45)).toBe('3.5ms');
    expect(ms(120.4)).toBe('120ms');
    expect(rate(0.25)).toBe('0.3/s');
    expect(rate(1500)).toBe('1.5k/s');
    expect(percent(1, 4)).toBe('25%');
    expect(percent(1, 0)).toBe('');
  });
  it('reads Kubernetes quantities', () => {
    expect(quantity('500m')).toBe(0.5);
    expect(quantity('2')).toBe(2);
    expect(quantity('16Gi')).toBe(16 * 2 ** 30);
    expect(quantity('1k')).toBe(1000);
    expect(quantity('12Qi')).toBeUndefined();
    expect(quantity(undefined)).toBeUndefined();
  });
});
