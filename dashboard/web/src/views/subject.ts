/**
 * Subjects: a raw NATS subject, live, for those who want the bus itself (`mk.events.>`,
 * `mk.sys.actor.*.lifecycle`, a node's log stream). The server subscribes as this session's
 * identity, so the bus decides what the page may read: a subject outside it is refused, by name.
 */
import type { DeltaFrame, SnapshotFrame, SubjectMessage } from '../../../protocol';
import type { View } from '../context';
import { h, replace } from '../dom';
import type { Route } from '../router';
import { errorLine } from './shared';

type SubjectRoute = Extract<Route, { view: 'subject' }>;

/** Messages kept on the page (the newest). */
export const MAX_MESSAGES = 500;
/** Characters of a message's data shown. */
const MAX_DATA = 2000;

/** Adds `more` (oldest first) to `kept` (newest first), keeping at most `max`. Pure. */
export function keepNewest(kept: SubjectMessage[], more: SubjectMessage[], max = MAX_MESSAGES): SubjectMessage[] {
  return [...[...more].reverse(), ...kept].slice(0, max);
}

/** The Subjects view. */
export const subjectView: View = (root, ctx) => {
  const route = ctx.route as SubjectRoute;
  const input = h('input', { type: 'text', name: 'subject', size: 48, value: route.subject ?? '', placeholder: 'a NATS subject, e.g. mk.events.>' });
  const go = (): void => { if (input.value.trim()) ctx.replace({ ...route, subject: input.value.trim() }); };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
  const status = h('div', { class: 'status' });
  const list = h('ol', { class: 'messages', reversed: true });
  const count = h('span', { class: 'muted' });
  let paused = false;
  const pause = h('button', { type: 'button', name: 'pause-subject', onclick: () => { paused = !paused; pause.textContent = paused ? 'resume' : 'pause'; draw(); } }, 'pause');
  replace(root, h('h1', {}, 'Subjects'),
    h('p', { class: 'muted' }, 'Messages on a subject of the bus, as this session may read them (the bus refuses the rest).'),
    h('div', { class: 'toolbar' }, input, h('button', { type: 'button', name: 'watch', onclick: go }, 'watch'), pause, count),
    status, list);
  if (!route.subject) return () => undefined;

  let messages: SubjectMessage[] = [];
  let total = 0;
  const draw = (): void => {
    count.textContent = `${total} received${total > messages.length ? `, newest ${messages.length} kept` : ''}`;
    if (paused) return;
    replace(list, ...messages.map((m) => h('li', {},
      h('span', { class: 'muted' }, `${m.received} `), h('b', {}, m.subject), m.binary ? h('span', { class: 'muted' }, ' (base64)') : '',
      h('pre', {}, m.data.length > MAX_DATA ? `${m.data.slice(0, MAX_DATA)}...` : m.data))));
  };
  const sub = ctx.feed.subscribe({ topic: 'subject', subject: route.subject }, (f: SnapshotFrame | DeltaFrame) => {
    if (f.topic !== 'subject') return;
    replace(status);
    if (f.type === 'snapshot') { messages = []; total = 0; } else { messages = keepNewest(messages, f.messages); total += f.messages.length; }
    draw();
  }, (e) => replace(status, errorLine(e)));
  draw();
  return () => sub.close();
};
