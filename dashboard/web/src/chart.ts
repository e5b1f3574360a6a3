/**
 * Hand-drawn SVG charts: a line chart of a short live history (usage, rates). `linePoints` is the
 * pure part (tested); `lineChart` wraps it in an <svg>.
 */
import { h } from './dom';

/** One point: a time (ms since the epoch) and a value. */
export interface Point { t: number; v: number }

/**
 * The `points` attribute of an SVG polyline drawing `pts` in a `w` x `h` box: time on x from the
 * first to the last point, value on y from 0 to `max` (default: the largest value). Empty for no points.
 */
export function linePoints(pts: readonly Point[], w: number, hgt: number, max?: number): string {
  if (pts.length === 0) return '';
  const t0 = pts[0].t;
  const span = Math.max(1, pts[pts.length - 1].t - t0);
  const top = max ?? Math.max(...pts.map((p) => p.v));
  const scale = top > 0 ? hgt / top : 0;
  return pts.map((p) => {
    const x = pts.length === 1 ? w : ((p.t - t0) / span) * w;
    const y = hgt - Math.min(hgt, Math.max(0, p.v * scale));
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  }).join(' ');
}

const SVG = 'http://www.w3.org/2000/svg';

/** Creates the SVG element `<tag>` with `attrs`. */
export function svgEl(tag: string, attrs: Record<string, string>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** A line chart with a title and the last value, `label(v)` formatting values. */
export function lineChart(title: string, pts: readonly Point[], label: (v: number) => string, opts: { w?: number; h?: number } = {}): HTMLElement {
  const w = opts.w ?? 320;
  const hgt = opts.h ?? 80;
  const max = pts.length ? Math.max(...pts.map((p) => p.v)) : 0;
  const svg = svgEl('svg', { viewBox: `0 0 ${w} ${hgt}`, width: String(w), height: String(hgt), class: 'chart', role: 'img', 'aria-label': title });
  svg.appendChild(svgEl('polyline', { points: linePoints(pts, w, hgt, max), fill: 'none', stroke: 'currentColor', 'stroke-width': '1.5' }));
  const last = pts.length ? label(pts[pts.length - 1].v) : 'no samples yet';
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, `${title}: `, h('b', { class: 'chart-last' }, last), pts.length ? ` (max ${label(max)})` : ''), svg);
}
