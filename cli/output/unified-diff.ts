/**
 * A unified diff of two texts, line by line (the format of `diff -u`): what `mk diff` prints, as
 * kubectl diff prints its external diff's output. A longest-common-subsequence table is plenty for
 * objects of a few hundred lines.
 */

type Op = { t: ' ' | '-' | '+'; line: string };

function lines(text: string): string[] {
  if (text === '') return [];
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

function ops(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { out.push({ t: ' ', line: a[i] }); i++; j++; } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) { out.push({ t: '+', line: b[j] }); j++; } else { out.push({ t: '-', line: a[i] }); i++; }
  }
  // Within a run of changes, removals first (as diff prints them).
  for (let s = 0; s < out.length;) {
    if (out[s].t === ' ') { s++; continue; }
    let e = s;
    while (e < out.length && out[e].t !== ' ') e++;
    const run = out.slice(s, e);
    out.splice(s, e - s, ...run.filter((o) => o.t === '-'), ...run.filter((o) => o.t === '+'));
    s = e;
  }
  return out;
}

/**
 * The unified diff of `a` and `b` with `context` lines around each change, headed by `---` and
 * `+++` lines naming them; the empty string when they are equal.
 */
export function unifiedDiff(a: string, b: string, aName: string, bName: string, context = 3): string {
  const all = ops(lines(a), lines(b));
  const changed = all.map((o, k) => (o.t === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  let text = `--- ${aName}\n+++ ${bName}\n`;
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k] - context);
    let end = changed[k];
    while (k + 1 < changed.length && changed[k + 1] - end <= 2 * context) end = changed[++k];
    k++;
    end = Math.min(all.length - 1, end + context);
    // Line numbers where the hunk starts, in each text.
    let aLine = 1;
    let bLine = 1;
    for (let x = 0; x < start; x++) {
      if (all[x].t !== '+') aLine++;
      if (all[x].t !== '-') bLine++;
    }
    const hunk = all.slice(start, end + 1);
    const aCount = hunk.filter((o) => o.t !== '+').length;
    const bCount = hunk.filter((o) => o.t !== '-').length;
    const range = (line: number, count: number) => `${count === 0 ? line - 1 : line}${count === 1 ? '' : `,${count}`}`;
    text += `@@ -${range(aLine, aCount)} +${range(bLine, bCount)} @@\n`;
    for (const o of hunk) text += `${o.t}${o.line}\n`;
  }
  return text;
}
