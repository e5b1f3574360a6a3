import { renderAsyncResult, renderDeadLetters } from './function-async';

const NOW = Date.parse('2026-01-01T00:10:00Z');

describe('renderAsyncResult', () => {
  it('prints an aligned row, then the result, error and callback', () => {
    expect(renderAsyncResult({
      id: 'a1', namespace: 'default', name: 'add', status: 'Succeeded', attempts: 3, result: { sum: 3 },
      created: '2026-01-01T00:05:00Z', callback: { url: 'http://127.0.0.1:9/cb', status: 'Delivered', code: 200 },
    }, NOW)).toBe('ID    FUNCTION   STATUS      ATTEMPTS   AGE\na1    add        Succeeded   3          5m\nResult: {"sum":3}\nCallback: http://127.0.0.1:9/cb Delivered\n');
    expect(renderAsyncResult({
      id: 'a2', namespace: 'default', name: 'add', status: 'Failed', attempts: 4, code: 500, error: 'KeyError: b', created: '2026-01-01T00:09:30Z',
    }, NOW)).toBe('ID    FUNCTION   STATUS   ATTEMPTS   AGE\na2    add        Failed   4          30s\nError: KeyError: b\n');
  });
});

describe('renderDeadLetters', () => {
  it('prints ID, FUNCTION, ATTEMPTS, LAST ERROR and AGE, one line per letter, other namespaces named', () => {
    expect(renderDeadLetters([
      { id: 'x1', namespace: 'default', name: 'add', body: '{}', created: '2026-01-01T00:00:00Z', attempts: 4, lastError: 'boom\nat line 3', failed: '2026-01-01T00:09:00Z' },
      { id: 'longer-id', namespace: 'team', name: 'mul', body: '{}', created: '2026-01-01T00:00:00Z', attempts: 8, lastError: 'x'.repeat(80), failed: '2026-01-01T00:00:00Z' },
    ], NOW)).toBe([
      'ID          FUNCTION   ATTEMPTS   LAST ERROR                                                     AGE',
      'x1          add        4          boom at line 3                                                 60s',
      `longer-id   team/mul   8          ${'x'.repeat(57)}...   10m`,
      '',
    ].join('\n'));
  });
});
