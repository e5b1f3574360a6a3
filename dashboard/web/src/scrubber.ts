/**
 * The time scrubber: a slider over the last hour (what the actor history keeps) and a field for
 * an exact time. Choosing a time puts `at=` in the route; "now" (the slider's right end) is live.
 */
import { h, replace } from './dom';

/** The scrubber's reach back, in seconds (the MK_ACTORS stream keeps an hour). */
export const REACH_SECONDS = 3600;

/** Draws the scrubber into `box`; `choose(at)` gets an ISO time, or undefined for live. */
export function scrubber(box: HTMLElement, choose: (at: string | undefined) => void): { set(at?: string): void } {
  const slider = h('input', { type: 'range', min: -REACH_SECONDS, max: 0, step: 5, value: 0, name: 'scrub', 'aria-label': 'time' });
  const field = h('input', { type: 'text', name: 'at', size: 24, placeholder: 'now (live)', 'aria-label': 'moment (ISO 8601)' });
  const err = h('span', { class: 'error' });
  slider.addEventListener('change', () => {
    const s = Number(slider.value);
    choose(s >= 0 ? undefined : new Date(Date.now() + s * 1000).toISOString());
  });
  const submit = (): void => {
    const v = field.value.trim();
    if (v === '') { choose(undefined); return; }
    const t = Date.parse(v);
    if (Number.isNaN(t)) { err.textContent = ` not a time: ${v}`; return; }
    err.textContent = '';
    choose(new Date(t).toISOString());
  };
  field.addEventListener('keydown', (e) => { if (e.key === 'Enter') submit(); });
  replace(box, h('span', { class: 'muted' }, 'time'), slider, field,
    h('button', { type: 'button', name: 'go-at', onclick: submit }, 'go'),
    h('button', { type: 'button', name: 'now', onclick: () => choose(undefined) }, 'now'), err);
  return {
    set(at?: string): void {
      field.value = at ?? '';
      slider.value = at ? String(Math.max(-REACH_SECONDS, Math.round((Date.parse(at) - Date.now()) / 1000))) : '0';
    },
  };
}
