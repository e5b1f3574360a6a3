import { combineFileEvents, FileDebouncer, fileEventOf, type DebouncedChange } from './file-events';
import { ignoredOutside, normalWatchPath, withinTarget } from './file-watch';
import { fileChangeMsgId } from './file-triggers';

describe("chokidar's events", () => {
  it.each([
    ['add', 'create'], ['change', 'write'], ['unlink', 'delete'], ['addDir', undefined], ['unlinkDir', undefined], ['ready', undefined], ['error', undefined],
  ] as const)('%s -> %s', (chokidar, want) => {
    expect(fileEventOf(chokidar)).toBe(want);
  });
});

describe('what changes within a window come to', () => {
  it.each([
    [undefined, 'write', 'write'],
    ['create', 'write', 'create'],
    ['write', 'write', 'write'],
    ['create', 'delete', 'delete'],
    ['write', 'delete', 'delete'],
    ['delete', 'create', 'create'],
    ['delete', 'write', 'write'],
  ] as const)('%s then %s: %s', (pending, next, want) => {
    expect(combineFileEvents(pending, next)).toBe(want);
  });
});

describe('the debouncer', () => {
  let fired: DebouncedChange[];
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    fired = [];
  });
  afterEach(() => jest.useRealTimers());
  const debouncer = (debounceMs: number, events: ('create' | 'write' | 'delete')[] = ['create', 'write', 'delete']) =>
    new FileDebouncer({ debounceMs, events, fire: (c) => fired.push(c) });

  it('fires a burst on one file once, debounceMs after its last change, as the last change', () => {
    const d = debouncer(100);
    d.push('/d/a', 'write');
    jest.advanceTimersByTime(60);
    d.push('/d/a', 'write');
    jest.advanceTimersByTime(60);
    d.push('/d/a', 'write');
    jest.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([{ path: '/d/a', event: 'write', at: 1_000_120 }]);
    expect(d.size).toBe(0);
  });

  it('fires a file written without a pause every 10 x debounceMs, not only once the writes stop', () => {
    const d = debouncer(100);
    // A write every 50 ms for 2.5 s: windows of 1 s each, and the rest once the writes stop.
    for (let t = 0; t < 2500; t += 50) {
      d.push('/d/log', 'write');
      jest.advanceTimersByTime(50);
    }
    expect(fired.map((c) => c.at - 1_000_000)).toEqual([950, 1950]);
    jest.advanceTimersByTime(100);
    expect(fired.map((c) => c.at - 1_000_000)).toEqual([950, 1950, 2450]);
    expect(fired.every((c) => c.event === 'write')).toBe(true);
  });

  it('fires changes further apart than debounceMs each', () => {
    const d = debouncer(100);
    d.push('/d/a', 'create');
    jest.advanceTimersByTime(150);
    d.push('/d/a', 'write');
    jest.advanceTimersByTime(150);
    d.push('/d/a', 'delete');
    jest.advanceTimersByTime(150);
    expect(fired.map((c) => c.event)).toEqual(['create', 'write', 'delete']);
  });

  it('keeps a window per file', () => {
    const d = debouncer(100);
    d.push('/d/a', 'create');
    d.push('/d/b', 'write');
    jest.advanceTimersByTime(50);
    d.push('/d/a', 'write');
    jest.advanceTimersByTime(50);
    // b's window ended; a's started again with its write.
    expect(fired.map((c) => [c.path, c.event])).toEqual([['/d/b', 'write']]);
    jest.advanceTimersByTime(50);
    expect(fired.map((c) => [c.path, c.event])).toEqual([['/d/b', 'write'], ['/d/a', 'create']]);
  });

  it('a create then writes fires create; a create then a delete fires delete', () => {
    const d = debouncer(50);
    d.push('/a', 'create');
    d.push('/a', 'write');
    d.push('/a', 'write');
    jest.advanceTimersByTime(50);
    d.push('/b', 'create');
    d.push('/b', 'write');
    d.push('/b', 'delete');
    jest.advanceTimersByTime(50);
    expect(fired.map((c) => [c.path, c.event])).toEqual([['/a', 'create'], ['/b', 'delete']]);
  });

  it('fires only what the trigger\'s events list, after the window decided what the changes came to', () => {
    const d = debouncer(10, ['write']);
    d.push('/new', 'create');
    d.push('/new', 'write');
    d.push('/old', 'write');
    d.push('/gone', 'delete');
    jest.advanceTimersByTime(10);
    expect(fired.map((c) => [c.path, c.event])).toEqual([['/old', 'write']]);
  });

  it('debounceMs 0 still fires every change that comes in a later turn', () => {
    const d = debouncer(0);
    d.push('/a', 'write');
    jest.advanceTimersByTime(0);
    d.push('/a', 'write');
    jest.advanceTimersByTime(0);
    expect(fired).toHaveLength(2);
  });

  it('flush fires the open windows now; stop drops them and takes nothing more', () => {
    const d = debouncer(1000);
    d.push('/a', 'write');
    d.flush();
    expect(fired.map((c) => c.path)).toEqual(['/a']);
    d.push('/b', 'write');
    d.stop();
    d.push('/c', 'write');
    jest.advanceTimersByTime(5000);
    expect(fired.map((c) => c.path)).toEqual(['/a']);
  });
});

describe('the watched paths', () => {
  it('normalises the path', () => {
    expect(normalWatchPath('/data/in/')).toBe('/data/in');
    expect(normalWatchPath('/data//in')).toBe('/data/in');
    expect(normalWatchPath('/')).toBe('/');
  });

  it('a change is the trigger\'s when it is the path or under it', () => {
    expect(withinTarget('/data/in', '/data/in')).toBe(true);
    expect(withinTarget('/data/in', '/data/in/x/y')).toBe(true);
    expect(withinTarget('/data/in', '/data/inbox')).toBe(false);
    expect(withinTarget('/', '/anything')).toBe(true);
  });

  it('a watch rooted above the path ignores all but the way down and what is under the path', () => {
    const ignored = ignoredOutside('/tmp/x/y/z', '/tmp');
    for (const p of ['/tmp', '/tmp/x', '/tmp/x/y', '/tmp/x/y/z', '/tmp/x/y/z/f']) expect([p, ignored(p)]).toEqual([p, false]);
    for (const p of ['/tmp/other', '/tmp/x/other', '/tmp/x/y/zz', '/tmp/xx']) expect([p, ignored(p)]).toEqual([p, true]);
  });
});

describe('the Nats-Msg-Id of a change', () => {
  const t = { namespace: 'default', name: 'in', uid: 'u1' };
  const body = { path: '/d/a', event: 'write' as const, time: '2024-01-01T00:00:00.000Z' };
  it('is the same for the same change and another for any other', () => {
    expect(fileChangeMsgId('n1', t, body)).toBe(fileChangeMsgId('n1', t, { ...body }));
    expect(fileChangeMsgId('n1', t, body)).not.toBe(fileChangeMsgId('n2', t, body));
    expect(fileChangeMsgId('n1', t, body)).not.toBe(fileChangeMsgId('n1', { ...t, uid: 'u2' }, body));
    expect(fileChangeMsgId('n1', t, body)).not.toBe(fileChangeMsgId('n1', t, { ...body, time: '2024-01-01T00:00:00.001Z' }));
    expect(fileChangeMsgId('n1', t, body)).not.toBe(fileChangeMsgId('n1', t, { ...body, event: 'delete' }));
  });
});
