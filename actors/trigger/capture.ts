/**
 * Which subjects the trigger events stream captures, given the subjects of every subject trigger.
 * JetStream refuses a stream whose subjects overlap (two subjects some message could match both)
 * and a subject another stream already captures (checked on nats-server 2.9: `subject "a.*.c"
 * overlaps with "a.b.*"`, `duplicate subjects detected`, `subjects overlap with an existing
 * stream`). So the stream captures a set with no overlap: each group of overlapping trigger
 * subjects becomes one subject that covers them all (their join, wildcards where they differ),
 * and each trigger's consumer filters its own subject, which JetStream allows to overlap freely.
 * The join may capture messages no trigger wants; they expire with the stream's max age. It
 * never starts with a wildcard, since no trigger subject does (messages/trigger-names.ts).
 * Pure: no I/O.
 */

const tokens = (s: string): string[] => s.split('.');

/** Whether every subject `b` matches is one `a` matches too. */
export function covers(a: string, b: string): boolean {
  const x = tokens(a);
  const y = tokens(b);
  for (let i = 0; i < x.length; i++) {
    if (x[i] === '>') return i < y.length;
    if (i >= y.length || y[i] === '>') return false;
    if (x[i] === '*') continue;
    if (y[i] === '*' || x[i] !== y[i]) return false;
  }
  return x.length === y.length;
}

/** Whether some subject matches both `a` and `b`. */
export function overlaps(a: string, b: string): boolean {
  const x = tokens(a);
  const y = tokens(b);
  for (let i = 0; ; i++) {
    if (i === x.length || i === y.length) return x.length === y.length;
    if (x[i] === '>' || y[i] === '>') return true;
    if (x[i] === '*' || y[i] === '*') continue;
    if (x[i] !== y[i]) return false;
  }
}

/** The narrowest subject of this shape that covers both `a` and `b` (which overlap). */
export function join(a: string, b: string): string {
  if (covers(a, b)) return a;
  if (covers(b, a)) return b;
  const x = tokens(a);
  const y = tokens(b);
  const out: string[] = [];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (i >= x.length || i >= y.length || x[i] === '>' || y[i] === '>') { out.push('>'); break; }
    out.push(x[i] === y[i] ? x[i] : '*');
  }
  return out.join('.');
}

/** The subjects the events stream captures for `subjects`: none overlapping, every one covered; sorted. */
export function captureSubjects(subjects: Iterable<string>): string[] {
  let set = [...new Set(subjects)];
  for (;;) {
    let merged = false;
    outer: for (let i = 0; i < set.length; i++) {
      for (let j = i + 1; j < set.length; j++) {
        if (!overlaps(set[i], set[j])) continue;
        const joined = join(set[i], set[j]);
        set = [...set.filter((_, k) => k !== i && k !== j), joined];
        merged = true;
        break outer;
      }
    }
    if (!merged) return [...new Set(set)].sort();
  }
}
