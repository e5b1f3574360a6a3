/**
 * A strict parser of Prometheus' text exposition format (version 0.0.4,
 * https://prometheus.io/docs/instrumenting/exposition_formats/), for tests of `/metrics`: it
 * throws, naming the line, on anything a scraper could choke on or that breaks the format's
 * rules, instead of guessing. Checked: HELP and TYPE lines (at most one each per family, before
 * its samples, a known type), metric and label names, label values with their escapes, sample
 * values, no duplicate series, each family's samples together, and for histograms: `_bucket`
 * series with `le`, cumulative counts non-decreasing in `le`, a `+Inf` bucket equal to `_count`,
 * and a `_sum` per label set. `promtool check metrics` (when installed) checks the same text too.
 */
import { spawnSync } from 'node:child_process';

/** One sample line. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: its HELP, TYPE and samples. */
export interface PromFamily {
  name: string;
  help?: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses a sample value: a float, NaN, +Inf or -Inf (any case, as Go's ParseFloat, which Prometheus uses). */
function parseValue(text: string, where: string): number {
  const t = text.toLowerCase();
  if (t === 'nan') return NaN;
  if (t === '+inf' || t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value "${text}"`);
  return Number(text);
}

/** Unescapes a HELP text: `\\` and `\n` only. */
function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${where}: bad escape \\${c} in HELP`);
  });
}

/** Parses `{a="x",b="y"}` at `text[0]`; returns the labels and the rest of the line. */
function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!m) throw new Error(`${where}: bad label name at "${text.slice(i, i + 20)}"`);
    const name = m[0];
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') throw new Error(`${where}: label ${name} needs ="value"`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`${where}: unterminated value of label ${name}`);
      if (c === '"') { i++; break; }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${e ?? ''} in label ${name}`);
        i += 2;
        continue;
      }
      if (c === '\n') throw new Error(`${where}: raw newline in label ${name}`);
      value += c;
      i++;
    }
    if (name in labels) throw new Error(`${where}: label ${name} given twice`);
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`${where}: reserved or bad label name ${name}`);
    labels[name] = value;
    while (text[i] === ' ') i++;
    if (text[i] === ',') { i++; continue; }
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    throw new Error(`${where}: expected , or } after label ${name}`);
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, PromFamily>): PromFamily | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

const seriesKey = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;

/**
 * Parses `text` and checks every rule in the module comment; returns the families by name.
 * Throws an Error naming the line (1-based) and what is wrong.
 */
export function parsePromText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: PromFamily | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('the exposition must end with a newline');
  lines.pop();
  lines.forEach((line, idx) => {
    const where = `line ${idx + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, what, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      let f = families.get(name);
      if (f && f.samples.length > 0) throw new Error(`${where}: ${what} of ${name} after its samples`);
      if (closed.has(name)) throw new Error(`${where}: family ${name} appears twice`);
      if (!f) {
        f = { name, type: 'untyped', samples: [] };
        families.set(name, f);
      }
      if (current && current !== f) closed.add(current.name);
      current = f;
      if (what === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        f.help = unescapeHelp(rest, where);
      } else {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}" for ${name}`);
        if ((f as { typed?: boolean }).typed) throw new Error(`${where}: second TYPE for ${name}`);
        (f as { typed?: boolean }).typed = true;
        f.type = rest as PromFamily['type'];
      }
      return;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) throw new Error(`${where}: a sample must start with a metric name: "${line}"`);
    const name = nm[0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
    const parts = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`${where}: expected "value [timestamp]" after ${name}`);
    const value = parseValue(parts[0], where);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp ${parts[1]}`);
    let f = familyOf(name, families);
    if (!f) {
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    if (closed.has(f.name)) throw new Error(`${where}: samples of ${f.name} are not together`);
    if (current && current !== f) closed.add(current.name);
    current = f;
    if (f.type === 'histogram' && name === f.name) throw new Error(`${where}: histogram ${f.name} has a bare sample`);
    if (f.type === 'counter' && !(value >= 0) && !Number.isNaN(value)) throw new Error(`${where}: counter ${name} is negative`);
    const key = seriesKey(name, labels);
    if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    series.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** The histogram rules: buckets cumulative, +Inf = _count, a _sum and _count per label set. */
function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: { le: number; v: number }[]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const g = groups.get(seriesKey('', rest)) ?? { buckets: [] };
    groups.set(seriesKey('', rest), g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`histogram ${f.name}: a bucket without le`);
      g.buckets.push({ le: parseValue(le, `histogram ${f.name} le`), v: s.value });
    } else if (le !== undefined) {
      throw new Error(`histogram ${f.name}: le on ${s.name}`);
    } else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else g.count = s.value;
  }
  for (const [labels, g] of groups) {
    const at = `histogram ${f.name}${labels}`;
    if (g.buckets.length === 0) throw new Error(`${at}: no buckets`);
    if (g.sum === undefined || g.count === undefined) throw new Error(`${at}: needs _sum and _count`);
    const sorted = [...g.buckets].sort((a, b) => a.le - b.le);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].le === sorted[i - 1].le) throw new Error(`${at}: bucket le=${sorted[i].le} twice`);
      if (sorted[i].v < sorted[i - 1].v) throw new Error(`${at}: bucket le=${sorted[i].le} holds less than le=${sorted[i - 1].le}`);
    }
    const inf = sorted[sorted.length - 1];
    if (inf.le !== Infinity) throw new Error(`${at}: no +Inf bucket`);
    if (inf.v !== g.count) throw new Error(`${at}: +Inf bucket ${inf.v} differs from _count ${g.count}`);
  }
}

/** The samples of series `name` whose labels include `labels`. */
export function samplesOf(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): PromSample[] {
  const out: PromSample[] = [];
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
    }
  }
  return out;
}

/** The sum of the values of `samplesOf(...)`; 0 when there are none. */
export function sumOf(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number {
  return samplesOf(families, name, labels).reduce((a, s) => a + s.value, 0);
}

/** Whether `promtool` is on PATH. */
export function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs `promtool check metrics` on `text`; returns its complaints (empty when it has none). Only
 * call when hasPromtool() says it is installed. Lint findings (its naming advice) count too.
 */
export function promtoolCheck(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return r.status === 0 ? '' : `${r.stdout}${r.stderr}`.trim() || `promtool exited ${r.status}`;
}
