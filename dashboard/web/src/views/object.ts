/**
 * One object: its YAML (read, and edited with conflict detection), reconcile lag, conditions,
 * owners and dependents, its events as a timeline, the actors that keep it; a pod adds its live
 * logs and usage chart, a Workflow or WorkflowRun its states as a graph (workflow.ts). With a
 * scrubber time, the object as it was then (a deleted one too).
 */
import { dump } from 'js-yaml';
import type { AtResult, DeltaFrame, EventRow, ObjectDetail, RelatedRef, SnapshotFrame, WriteResult } from '../../../protocol';
import { READ_ONLY_NOTE, type View, type ViewContext } from '../context';
import { h, link, replace, type Child } from '../dom';
import { errorOf } from '../feed';
import * as fmt from '../format';
import { isScalable, pluralOf } from '../kinds';
import { objectHref, type Route } from '../router';
import { TableState } from '../table';
import { actorsOf } from './object-actors';
import { logsPanel, type LogsPanel } from './logs';
import { containersTable } from './pod-status';
import { errorLine } from './shared';
import { usagePanel } from './usage';
import { workflowPanel } from './workflow';

type ObjectRoute = Extract<Route, { view: 'object' }>;

/** The object as YAML, as `mk get -o yaml` prints it. */
export function toYaml(obj: unknown): string {
  return dump(obj, { lineWidth: -1, noRefs: true, seqNoIndent: true });
}

function refLink(r: RelatedRef, at?: string): HTMLElement {
  return h('li', {}, link(objectHref(pluralOf(r.kind), r.namespace, r.name, at), `${r.kind.toLowerCase()}/${r.name}`));
}

function eventsTimeline(events: EventRow[], now: number): HTMLElement {
  if (events.length === 0) return h('p', { class: 'muted' }, 'No events.');
  const sorted = [...events].sort((a, b) => (Date.parse(b.lastTimestamp ?? b.firstTimestamp ?? '') || 0) - (Date.parse(a.lastTimestamp ?? a.firstTimestamp ?? '') || 0));
  return h('table', { class: 'events' },
    h('thead', {}, h('tr', {}, ...['type', 'reason', 'age', 'from', 'count', 'message'].map((c) => h('th', {}, c)))),
    h('tbody', {}, ...sorted.map((e) => h('tr', { 'data-key': e.key },
      h('td', { class: e.type ?? '' }, e.type ?? ''), h('td', {}, e.reason ?? ''),
      h('td', {}, fmt.age(e.lastTimestamp ?? e.firstTimestamp, now)), h('td', {}, e.source ?? ''),
      h('td', { class: 'num' }, String(e.count ?? 1)), h('td', { class: 'message' }, e.message ?? '')))));
}

function lagLine(lag: ObjectDetail['lag']): Child {
  if (!lag || (lag.observedGeneration === undefined && !lag.behind)) {
    return h('p', { class: 'muted' }, `generation ${lag?.generation ?? '?'}; this object's status reports no observedGeneration.`);
  }
  return h('p', { class: lag.behind ? 'lag-behind' : 'ok' },
    `generation ${lag.generation}, observed ${lag.observedGeneration ?? 'never'}: `, lag.behind ? 'its controller is behind' : 'up to date');
}

/** A write control: enabled on a write session; on a read-only one disabled with the note. */
function writeButton(ctx: ViewContext, label: string, name: string, onclick: () => void): HTMLButtonElement {
  return h('button', { type: 'button', name, disabled: !ctx.writable, title: ctx.writable ? undefined : READ_ONLY_NOTE, onclick }, label);
}

/** The object page. */
export const objectView: View = (root, ctx) => {
  const route = ctx.route as ObjectRoute;
  const ref = { kind: route.plural, namespace: route.namespace, name: route.name };
  const title = `${route.plural}/${route.namespace ? `${route.namespace}/` : ''}${route.name}`;
  const status = h('div', { class: 'status', role: 'status' });
  // The outcome of this page's last write: kept while the object changes under it.
  const written = h('div', { class: 'written' });
  const actions = h('div', { class: 'toolbar actions' });
  const lagBox = h('div', { class: 'lag' });
  const condBox = h('div', { class: 'conditions' });
  const relBox = h('div', { class: 'related' });
  const containersBox = h('div', { class: 'containers-box' });
  const eventsBox = h('div', { class: 'events-box' });
  const yamlBox = h('div', { class: 'yaml-box' });
  const workflowBox = h('div', { class: 'workflow-box' });
  const cleanups: (() => void)[] = [];
  const isPod = pluralOf(route.plural) === 'pods';

  replace(root, h('h1', {}, title), status, actions, written, workflowBox,
    isPod ? [h('h2', {}, 'Containers'), containersBox] : '',
    h('h2', {}, 'Reconcile lag'), lagBox, h('h2', {}, 'Conditions'), condBox,
    relBox, h('h2', {}, 'Events'), eventsBox);
  const extra = h('div', {});
  root.append(extra, h('h2', {}, 'YAML'), yamlBox);

  // ---- the past: one read
  if (route.at) {
    let alive = true;
    ctx.feed.request({ type: 'at', time: route.at, object: ref, offset: 0, limit: 1 }).then((r) => {
      if (!alive) return;
      const o = (r.value as AtResult).object;
      if (!o?.object) { replace(status, h('p', { class: 'muted' }, `${title} did not exist at ${route.at} (or the history kept no revision that old).`)); return; }
      replace(status, h('p', { class: 'past-note' }, `As it was at ${route.at}: revision ${o.revision ?? '?'}`,
        o.written ? `, written ${o.written}` : '', o.deleted ? ' (it had been deleted by then: this is its last version)' : ''));
      replace(yamlBox, h('pre', { class: 'yaml' }, toYaml(o.object)));
      replace(condBox, h('p', { class: 'muted' }, 'see the YAML'));
      replace(lagBox, '');
      replace(eventsBox, h('p', { class: 'muted' }, 'Events are shown live only.'));
    }, (e: unknown) => { if (alive) replace(status, errorLine(errorOf(e))); });
    return () => { alive = false; };
  }

  // ---- live
  const events = new TableState<EventRow>();
  let detail: ObjectDetail | undefined;
  let logs: LogsPanel | undefined;
  let editing: { base: string; textarea: HTMLTextAreaElement; note: HTMLElement } | undefined;
  const now = () => Date.now();

  const currentRv = (): string | undefined => detail?.object?.metadata.resourceVersion;
  const showYaml = (): void => {
    const obj = detail?.object;
    if (editing) {
      const rv = currentRv();
      replace(editing.note, rv && rv !== editing.base ? `The object changed since you started editing (now resourceVersion ${rv}); saving will be refused as a conflict.` : '');
      return;
    }
    if (!obj) { replace(yamlBox, h('p', { class: 'muted' }, `${title} does not exist (or was deleted).`)); return; }
    replace(yamlBox,
      h('div', { class: 'toolbar' }, writeButton(ctx, 'edit', 'edit', startEdit), ctx.writable ? '' : h('span', { class: 'readonly-note' }, READ_ONLY_NOTE)),
      h('pre', { class: 'yaml', 'data-resource-version': obj.metadata.resourceVersion ?? '' }, toYaml(obj)));
  };
  const startEdit = (): void => {
    const obj = detail?.object;
    if (!obj) return;
    const textarea = h('textarea', { class: 'yaml', name: 'yaml', spellcheck: 'false' });
    textarea.value = toYaml(obj);
    const note = h('p', { class: 'muted edit-note' });
    const result = h('div', { class: 'edit-result' });
    editing = { base: obj.metadata.resourceVersion ?? '', textarea, note };
    const save = async (): Promise<void> => {
      if (!editing) return;
      replace(result, h('span', { class: 'muted' }, 'saving...'));
      try {
        const r = await ctx.feed.request({ type: 'apply', text: textarea.value, namespace: route.namespace, resourceVersion: editing.base });
        const w = r.value as WriteResult;
        editing = undefined;
        replace(written, h('p', { class: 'ok' }, `${title} ${w.result}`));
        showYaml();
      } catch (e) {
        const err = errorOf(e);
        if (err.code === 'Conflict' && editing) {
          replace(result, h('div', { class: 'conflict', role: 'alert' },
            h('b', {}, 'Conflict: '), `${err.message}. You edited resourceVersion ${editing.base}; the object is now at ${err.resourceVersion ?? currentRv() ?? 'a newer version'}. `,
            h('button', { type: 'button', name: 'reload', onclick: reload }, 'reload'), ' (discards your edit and loads the current object)'));
        } else {
          replace(result, errorLine(err));
        }
      }
    };
    const reload = (): void => {
      const cur = detail?.object;
      if (!editing || !cur) return;
      editing.base = cur.metadata.resourceVersion ?? '';
      textarea.value = toYaml(cur);
      replace(result);
      replace(note);
    };
    const cancel = (): void => { editing = undefined; showYaml(); };
    replace(yamlBox,
      h('div', { class: 'toolbar' }, writeButton(ctx, 'save', 'save', () => void save()), h('button', { type: 'button', name: 'cancel', onclick: cancel }, 'cancel'),
        h('span', { class: 'muted' }, `editing resourceVersion ${editing.base}`)),
      note, result, textarea);
  };

  const drawActions = (): void => {
    const confirmBox = h('span', {});
    const doDelete = async (): Promise<void> => {
      replace(confirmBox, h('span', { class: 'muted' }, 'deleting...'));
      try {
        const r = await ctx.feed.request({ type: 'delete', ...ref });
        replace(confirmBox);
        replace(written, h('p', { class: 'ok' }, `${title} ${(r.value as WriteResult).result}`));
      } catch (e) {
        replace(confirmBox);
        replace(written, h('p', { class: 'error write-error', role: 'alert' }, `delete refused: ${errorOf(e).code}: ${errorOf(e).message}`));
      }
    };
    const del = writeButton(ctx, 'delete', 'delete', () => replace(confirmBox, `delete ${title}? `,
      h('button', { type: 'button', name: 'confirm-delete', onclick: () => void doDelete() }, 'yes, delete'),
      h('button', { type: 'button', onclick: () => replace(confirmBox) }, 'no')));
    const scaleBox: Child[] = [];
    if (isScalable(pluralOf(route.plural))) {
      const replicas = h('input', { type: 'number', min: 0, name: 'replicas', size: 4, value: String((detail?.object as { spec?: { replicas?: number } } | undefined)?.spec?.replicas ?? 1) });
      scaleBox.push(replicas, writeButton(ctx, 'scale', 'scale', () => {
        ctx.feed.request({ type: 'scale', ...ref, replicas: Number(replicas.value), resourceVersion: currentRv() })
          .then((r) => replace(written, h('p', { class: 'ok' }, `${title} ${(r.value as WriteResult).result}`)),
            (e: unknown) => replace(written, h('p', { class: 'error write-error', role: 'alert' }, `scale refused: ${errorOf(e).code}: ${errorOf(e).message}`)));
      }));
    }
    replace(actions, del, confirmBox, ...scaleBox, ctx.writable ? '' : h('span', { class: 'readonly-note' }, READ_ONLY_NOTE));
  };

  const workflow = workflowPanel(ctx, workflowBox, route.namespace ?? 'default');
  cleanups.push(() => workflow.close());

  const draw = (): void => {
    if (!detail) return;
    workflow.update(detail.object);
    if (isPod) {
      replace(containersBox, containersTable(detail.object));
      const spec = (detail.object as { spec?: { containers?: { name: string }[] } } | null)?.spec;
      logs?.setContainers((spec?.containers ?? []).map((c) => c.name));
    }
    replace(lagBox, lagLine(detail.lag));
    replace(condBox, detail.conditions.length === 0 ? h('p', { class: 'muted' }, 'No conditions.') : h('table', { class: 'conditions' },
      h('thead', {}, h('tr', {}, ...['type', 'status', 'reason', 'message', 'since'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...detail.conditions.map((c) => h('tr', {}, h('td', {}, c.type), h('td', {}, c.status), h('td', {}, c.reason ?? ''),
        h('td', {}, c.message ?? ''), h('td', {}, fmt.age(c.lastTransitionTime, now())))))));
    replace(relBox,
      h('h2', {}, 'Owners'), detail.owners.length ? h('ul', { class: 'owners' }, ...detail.owners.map((r) => refLink(r))) : h('p', { class: 'muted' }, 'None.'),
      h('h2', {}, 'Dependents'), detail.dependents.length ? h('ul', { class: 'dependents' }, ...detail.dependents.map((r) => refLink(r))) : h('p', { class: 'muted' }, 'None.'));
    replace(eventsBox, eventsTimeline(events.rows(), now()));
    showYaml();
  };

  const onFrame = (f: SnapshotFrame | DeltaFrame): void => {
    if (f.topic !== 'object') return;
    if (f.type === 'snapshot') {
      detail = f.detail;
      events.snapshot({ rows: f.detail.events, total: f.detail.events.length, offset: 0 });
    } else {
      if (!detail) return;
      detail = {
        ...detail,
        ...(f.object !== undefined ? { object: f.object } : {}),
        ...(f.conditions ? { conditions: f.conditions } : {}),
        ...(f.owners ? { owners: f.owners } : {}),
        ...(f.dependents ? { dependents: f.dependents } : {}),
        ...('lag' in f ? { lag: f.lag } : {}),
      };
      if (f.events) events.delta(f.events);
    }
    replace(status, detail.object ? '' : h('p', { class: 'muted gone' }, `${title} does not exist (or was deleted).`));
    draw();
  };
  const sub = ctx.feed.subscribe({ topic: 'object', ...ref }, onFrame, (e) => replace(status, errorLine(e)));
  cleanups.push(() => sub.close());
  drawActions();

  const actorsBox = h('div', { class: 'kept-by' });
  extra.append(h('h2', {}, 'Actors keeping it'), actorsBox);
  cleanups.push(actorsOf(ctx, route.plural, route.namespace, route.name, actorsBox));
  if (isPod) {
    const logsBox = h('div', {});
    const usageBox = h('div', {});
    extra.append(h('h2', {}, 'Logs'), logsBox, h('h2', {}, 'Usage'), usageBox);
    logs = logsPanel(ctx, route.namespace ?? 'default', route.name, logsBox);
    const panel = logs;
    cleanups.push(() => panel.close());
    cleanups.push(usagePanel(ctx, 'pods', route.namespace ?? 'default', route.name, usageBox));
  }
  const ages = setInterval(() => { if (detail && !editing) replace(eventsBox, eventsTimeline(events.rows(), now())); }, 10_000);
  cleanups.push(() => clearInterval(ages));
  return () => { for (const c of cleanups) c(); };
};

