import type { Trigger } from '../../messages';
import { triggerFileSubject } from '../../messages';
import { nodeFileTriggerOf } from '../node/file-triggers-api';
import { fileFiring, fileWatchKey, underPath } from './file-source';

const trigger = (file: Record<string, unknown>, meta: Record<string, unknown> = {}): Trigger => ({
  apiVersion: 'mk.io/v1', kind: 'Trigger',
  metadata: { name: 'in.box', namespace: 'team', uid: 'u1', ...meta },
  spec: { target: { workflow: 'wf' }, source: { file: { node: 'n1', path: '/data/in', events: ['create', 'write'], debounceMs: 100, ...file } } },
} as Trigger);

const subject = (node = 'n1'): string => triggerFileSubject(node, 'team', 'in.box');
const body = (over: Record<string, unknown> = {}) => ({ node: 'n1', path: '/data/in/a.csv', event: 'create', time: '2024-05-01T10:00:00.000Z', ...over });

describe('a file firing', () => {
  it('gives the body with the trigger and the firing', () => {
    expect(fileFiring(trigger({}), subject(), body(), 'in-box-m7')).toEqual({
      event: { node: 'n1', path: '/data/in/a.csv', event: 'create', time: '2024-05-01T10:00:00.000Z', trigger: 'team/in.box', firing: 'in-box-m7' },
    });
    expect(fileFiring(trigger({ path: '/data/in/a.csv' }), subject(), body(), 'f')).toHaveProperty('event');
  });

  it.each([
    ['another node\'s subject', subject('n2'), body()],
    ['a body naming another node', subject(), body({ node: 'n2' })],
    ['a path outside the trigger\'s', subject(), body({ path: '/data/inbox/a.csv' })],
    ['an event the trigger leaves out', subject(), body({ event: 'delete' })],
    ['an unknown event', subject(), body({ event: 'rename' })],
    ['a body that is not an object', subject(), 'text'],
    ['a time that is not one', subject(), body({ time: 'soon' })],
  ])('is ignored for %s', (_what, subj, b) => {
    expect(fileFiring(trigger({}), subj, b, 'f')).toHaveProperty('ignored');
  });

  it('a trigger whose node changed ignores what the old node published', () => {
    expect(fileFiring(trigger({ node: 'n2' }), subject('n1'), body(), 'f')).toEqual({ ignored: 'published by node n1, and the trigger watches on node n2' });
  });
});

describe('paths', () => {
  it.each([
    ['/data/in', '/data/in', true], ['/data/in', '/data/in/x/y', true], ['/data/in/', '/data/in/x', true],
    ['/data/in', '/data/inbox', false], ['/data/in', '/data', false], ['/', '/x', true],
  ] as const)('%s covers %s: %s', (watched, file, want) => {
    expect(underPath(watched, file)).toBe(want);
  });
});

describe('what a node is told', () => {
  it('its own live file triggers, with their defaults', () => {
    expect(nodeFileTriggerOf(trigger({ events: undefined, debounceMs: undefined }), 'n1')).toEqual({
      namespace: 'team', name: 'in.box', uid: 'u1', path: '/data/in', events: ['create', 'write', 'delete'], debounceMs: 100,
    });
    expect(nodeFileTriggerOf(trigger({}), 'n2')).toBeUndefined();
    expect(nodeFileTriggerOf(trigger({}, { deletionTimestamp: '2024-05-01T10:00:00Z' }), 'n1')).toBeUndefined();
    const http = { ...trigger({}), spec: { target: { workflow: 'wf' }, source: { http: { path: '/x' } } } } as Trigger;
    expect(nodeFileTriggerOf(http, 'n1')).toBeUndefined();
  });

  it('is told again when the node, path, events, debounce or uid change, not otherwise', () => {
    const base = fileWatchKey(trigger({}));
    expect(fileWatchKey(trigger({}))).toBe(base);
    for (const t of [trigger({ node: 'n2' }), trigger({ path: '/x' }), trigger({ events: ['write'] }), trigger({ debounceMs: 5 }), trigger({}, { uid: 'u2' })]) {
      expect(fileWatchKey(t)).not.toBe(base);
    }
  });
});
