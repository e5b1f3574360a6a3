/**
 * The control-plane side of file sources: what a file firing published by a node
 * (messages/trigger-subjects.ts, `mk.trigger.file.<node>.<ns>.<name>`) gives the trigger's target,
 * and which messages are not the trigger's to fire. The bus lets a node publish only under its
 * own name (embedded/permissions.ts); this checks, on top, that the name is the node the trigger
 * watches on (a message left from before spec.source.file.node changed, or one a node should not
 * have been able to send, is ignored) and that the body is a change the trigger asked for.
 * Pure: no I/O.
 */
import { FILE_EVENTS, triggerFileNodeOf, type FileEvent, type FileTriggerEvent, type Trigger } from '../../messages';

/** What a file firing gives the target, or why the message fires nothing. */
export type FileFiring = { event: FileTriggerEvent & { trigger: string; firing: string } } | { ignored: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `file` is `watched` or under it (a watched directory's files). */
export function underPath(watched: string, file: string): boolean {
  const root = watched.length > 1 ? watched.replace(/\/+$/, '') : watched;
  return file === root || file.startsWith(root === '/' ? '/' : `${root}/`);
}

/**
 * The input of firing `firing` of file trigger `t` by the message on `subject` with JSON `body`:
 * the body (`{ node, path, event, time }`) with the trigger's `<ns>/<name>` and the firing id, as
 * a schedule's firing carries them; or why it is ignored: another node's subject, a body that is
 * not a change, a path outside the trigger's, or a change the trigger's events leave out.
 */
export function fileFiring(t: Trigger, subject: string, body: unknown, firing: string): FileFiring {
  const file = t.spec.source.file;
  if (!file) return { ignored: 'the trigger has no file source' };
  const node = triggerFileNodeOf(subject);
  if (node !== file.node) return { ignored: `published by node ${node ?? '<none>'}, and the trigger watches on node ${file.node}` };
  if (!isRecord(body)) return { ignored: 'the body is not a JSON object' };
  const { path, event, time } = body;
  if (body.node !== node) return { ignored: `the body names node ${JSON.stringify(body.node)}, and the subject node ${node}` };
  if (typeof path !== 'string' || !underPath(file.path, path)) return { ignored: `path ${JSON.stringify(path)} is not ${file.path} or under it` };
  if (typeof event !== 'string' || !(FILE_EVENTS as readonly string[]).includes(event)) return { ignored: `event ${JSON.stringify(event)} is not one of ${FILE_EVENTS.join(', ')}` };
  if (!(file.events ?? FILE_EVENTS).includes(event as FileEvent)) return { ignored: `event ${event} is not among the trigger's events (${(file.events ?? FILE_EVENTS).join(', ')})` };
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) return { ignored: `time ${JSON.stringify(time)} is not an RFC 3339 time` };
  return {
    event: { node, path, event: event as FileEvent, time, trigger: `${t.metadata.namespace ?? 'default'}/${t.metadata.name}`, firing },
  };
}

/**
 * What a node watches for the trigger (its node, path, events and debounce, and the uid), as one
 * string: the node is told again when it changes. Undefined for a trigger without a file source.
 */
export function fileWatchKey(t: Trigger): string | undefined {
  const f = t.spec.source.file;
  if (!f) return undefined;
  return JSON.stringify([t.metadata.uid ?? '', f.node, f.path, f.events ?? FILE_EVENTS, f.debounceMs ?? null]);
}
