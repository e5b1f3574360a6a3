import { unifiedDiff } from '../../../cli/output/unified-diff';

const text = (n: number, change?: Record<number, string>) => Array.from({ length: n }, (_, i) => change?.[i + 1] ?? `line ${i + 1}`).join('\n') + '\n';

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff(text(5), text(5), 'a', 'b')).toBe('');
  });

  it('prints one change with three lines of context, removals before additions', () => {
    expect(unifiedDiff(text(10), text(10, { 5: 'five' }), 'LIVE/x', 'MERGED/x')).toBe([
      '--- LIVE/x', '+++ MERGED/x', '@@ -2,7 +2,7 @@', ' line 2', ' line 3', ' line 4', '-line 5', '+five', ' line 6', ' line 7', ' line 8', '',
    ].join('\n'));
  });

  it('joins changes whose context overlaps and splits those far apart', () => {
    const d = unifiedDiff(text(30), text(30, { 2: 'two', 6: 'six', 25: 'x' }), 'a', 'b');
    expect(d.match(/^@@ .*$/gm)).toEqual(['@@ -1,9 +1,9 @@', '@@ -22,7 +22,7 @@']);
  });

  it('numbers hunks of an empty side as diff does', () => {
    expect(unifiedDiff('', 'a\nb\n', 'LIVE', 'MERGED')).toBe('--- LIVE\n+++ MERGED\n@@ -0,0 +1,2 @@\n+a\n+b\n');
    expect(unifiedDiff('a\n', '', 'LIVE', 'MERGED')).toBe('--- LIVE\n+++ MERGED\n@@ -1 +0,0 @@\n-a\n');
  });

  it('shows added and removed lines in place', () => {
    expect(unifiedDiff('a\nb\nc\n', 'a\nc\nd\n', 'x', 'y')).toBe('--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n');
  });
});
