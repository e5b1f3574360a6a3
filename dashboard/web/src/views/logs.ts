/**
 * A pod's live log: its tail, then each line as the container writes it. "pause" stops drawing
 * (lines keep arriving and are shown on resume); the text is capped so a chatty pod cannot grow
 * the page without bound.
 */
import type { DeltaFrame, SnapshotFrame } from '../../../protocol';
import type { ViewContext } from '../context';
import type { SubscribeParams } from '../feed';
import { h, replace } from '../dom';
import { errorLine } from './shared';

/** The most characters of log the page keeps. */
export const MAX_LOG_CHARS = 256 * 1024;

/** How long after a refused log subscription it is asked for again. */
const RETRY_MS = 3000;

/** Appends `more` to `text`, keeping at most `max` characters and starting at a line. */
export function appendCapped(text: string, more: string, max = MAX_LOG_CHARS): string {
  const all = text + more;
  if (all.length <= max) return all;
  const cut = all.slice(all.length - max);
  const nl = cut.indexOf('\n');
  return nl >= 0 ? cut.slice(nl + 1) : cut;
}

/** The log panel: `setContainers` offers a pod's containers once known (the first is shown). */
export interface LogsPanel { close(): void; setContainers(names: string[]): void }

/** Draws the log panel of pod namespace/name into `box`. */
export function logsPanel(ctx: ViewContext, namespace: string, pod: string, box: HTMLElement): LogsPanel {
  let text = '';
  let paused = false;
  let ended = false;
  const pre = h('pre', { class: 'logs', 'aria-live': 'off' });
  const state = h('span', { class: 'muted log-state' }, 'following');
  const err = h('div', {});
  const pause = h('button', { type: 'button', name: 'pause-logs' }, 'pause');
  let retry: ReturnType<typeof setTimeout> | undefined;
  const draw = (): void => {
    if (paused) return;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.textContent = text;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
    state.textContent = ended ? 'ended' : 'following';
  };
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'resume' : 'pause';
    state.textContent = paused ? 'paused' : 'following';
    draw();
  });
  const containerSel = h('select', { name: 'container', hidden: true });
  replace(box, h('div', { class: 'toolbar' }, containerSel, pause, state), err, pre);
  const sub = ctx.feed.subscribe({ topic: 'logs', namespace, pod, follow: true, tailLines: 500 }, (f: SnapshotFrame | DeltaFrame) => {
    if (f.topic !== 'logs') return;
    if (f.type === 'snapshot') { text = appendCapped('', f.data); ended = !!f.eof; } else { text = appendCapped(text, f.append); ended = !!f.eof; }
    replace(err);
    draw();
  }, (e) => {
    // A pod not yet on a node, or a node agent restarting, has no log yet: ask again later.
    replace(err, errorLine(e), h('span', { class: 'muted' }, ' (asking again in a few seconds)'));
    clearTimeout(retry);
    retry = setTimeout(() => sub.update(sub.params), RETRY_MS);
  });
  containerSel.addEventListener('change', () => {
    text = '';
    draw();
    sub.update({ ...sub.params, container: containerSel.value } as SubscribeParams);
  });
  let offered = '';
  return {
    close: () => { clearTimeout(retry); sub.close(); },
    setContainers(names: string[]): void {
      if (names.join(' ') === offered) return;
      offered = names.join(' ');
      replace(containerSel, ...names.map((n) => h('option', { value: n }, n)));
      containerSel.hidden = names.length < 2;
    },
  };
}
