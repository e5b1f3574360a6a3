import { formatPath } from './manifest';
import { defaultTrigger, TriggerSchema, type Trigger } from './trigger';

const trigger = (spec: Record<string, unknown>) => ({
  apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name: 'nightly', namespace: 'shop' }, spec,
});
const fn = { function: 'add' };
const every5 = { schedule: { cron: '*/5 * * * *' } };

/** The problems of a spec in the words `mk apply` uses (messages/manifest.ts). */
function problems(spec: Record<string, unknown>): string[] {
  const r = TriggerSchema.safeParse(trigger(spec));
  if (r.success) return [];
  return r.error.issues.flatMap((i) => (i.code === 'unrecognized_keys'
    ? i.keys.map((k) => `unknown field "${formatPath([...i.path, k])}"`)
    : [`${formatPath(i.path)}: ${i.message}`]));
}
const valid = (spec: Record<string, unknown>) => TriggerSchema.parse(trigger(spec)) as unknown as Trigger;

describe('Trigger manifests', () => {
  it.each([
    ['a cron schedule in a zone', { target: fn, source: { schedule: { cron: '@daily', timeZone: 'Europe/Paris', startingDeadlineSeconds: 60 } } }],
    ['an after delay', { target: { workflow: 'pipeline' }, source: { schedule: { after: '10s' } } }],
    ['a file source', { target: fn, source: { file: { node: 'node-1', path: '/data/in/', events: ['create', 'write'], debounceMs: 0 } } }],
    ['a subject with filters', {
      target: { ...fn, input: { mode: 'fast' } },
      source: {
        subject: {
          subject: 'orders.*.created.>',
          filters: [
            { header: 'X-Tenant', equals: 'acme' }, { header: 'trace-id', present: true },
            { field: '$.order.total', equals: 42 }, { field: "$.items[*]['sku-id']", matches: '^A\\d+$' }, { field: '$..note', present: false },
          ],
        },
      },
    }],
    ['an http path', { target: { ...fn, input: [1, 2], inputMode: 'Replace' }, source: { http: { path: '/hooks/build', methods: ['GET', 'POST'] } } }],
    ['every delivery field', {
      target: fn, source: every5, concurrencyPolicy: 'Forbid', maxAttempts: 5, backoffSeconds: 2, maxBackoffSeconds: 2, deadLetterSubject: 'alerts.dead',
    }],
  ])('accepts %s as written', (_what, spec) => {
    expect(problems(spec)).toEqual([]);
    expect(valid(spec).spec).toEqual(spec);
  });

  it.each([
    ['an invalid cron', { target: fn, source: { schedule: { cron: '61 * * * *' } } },
      'spec.source.schedule.cron: Invalid value: "61 * * * *": minute 61 is out of range 0-59 in "61"'],
    ['a cron with four fields', { target: fn, source: { schedule: { cron: '* * * *' } } },
      'spec.source.schedule.cron: Invalid value: "* * * *": expected exactly 5 fields (minute hour day-of-month month day-of-week), found 4'],
    ['an unknown macro', { target: fn, source: { schedule: { cron: '@often' } } }, 'spec.source.schedule.cron: Invalid value: "@often": unknown macro "@often"'],
    ['a bad zone', { target: fn, source: { schedule: { cron: '@daily', timeZone: 'Mars/Olympus' } } },
      'spec.source.schedule.timeZone: Invalid value: "Mars/Olympus": unknown time zone "Mars/Olympus"'],
    ['a zone without cron', { target: fn, source: { schedule: { after: '1m', timeZone: 'UTC' } } },
      'spec.source.schedule.timeZone: Forbidden: may only be specified together with `cron`'],
    ['cron and after', { target: fn, source: { schedule: { cron: '@daily', after: '10s' } } },
      'spec.source.schedule.after: Forbidden: may not be specified when `cron` is (give exactly one of: cron, after)'],
    ['an empty schedule', { target: fn, source: { schedule: {} } }, 'spec.source.schedule: Required value: must specify exactly one of: cron, after'],
    ['a bad after', { target: fn, source: { schedule: { after: 'soon' } } }, 'spec.source.schedule.after: Invalid value: "soon" is not a duration'],
    ['a zero after', { target: fn, source: { schedule: { after: '0s' } } }, 'spec.source.schedule.after: Invalid value: "0s" must be more than zero'],
    ['a negative deadline', { target: fn, source: { schedule: { cron: '@daily', startingDeadlineSeconds: -1 } } },
      'spec.source.schedule.startingDeadlineSeconds: must be greater than or equal to 0'],
    ['two sources', { target: fn, source: { ...every5, http: { path: '/x' } } },
      'spec.source.http: Forbidden: may not be specified when `schedule` is (give exactly one of: schedule, file, subject, http)'],
    ['no source', { target: fn, source: {} }, 'spec.source: Required value: must specify exactly one of: schedule, file, subject, http'],
    ['two targets', { target: { function: 'a', workflow: 'b' }, source: every5 },
      'spec.target.workflow: Forbidden: may not be specified when `function` is (give exactly one of: function, workflow)'],
    ['no target', { target: {}, source: every5 }, 'spec.target: Required value: must specify exactly one of: function, workflow'],
    ['a bad target name', { target: { function: 'Add_1' }, source: every5 }, 'spec.target.function: invalid name "Add_1"'],
    ['inputMode without input', { target: { ...fn, inputMode: 'Replace' }, source: every5 },
      'spec.target.inputMode: Forbidden: may only be specified together with `input`'],
    ['a Merge of a non-object', { target: { ...fn, input: 'x' }, source: every5 }, 'spec.target.input: Invalid value: Merge needs an object'],
    ['an unknown field', { target: fn, source: every5, retries: 3 }, 'unknown field "spec.retries"'],
    ['an unknown source field', { target: fn, source: { schedule: { cron: '@daily', every: '1m' } } }, 'unknown field "spec.source.schedule.every"'],
    ['an unknown filter field', { target: fn, source: { subject: { subject: 'a', filters: [{ header: 'h', present: true, not: true }] } } },
      'unknown field "spec.source.subject.filters[0].not"'],
    ['a bad subject', { target: fn, source: { subject: { subject: 'orders..created' } } },
      'spec.source.subject.subject: Invalid value: "orders..created": must not have an empty token'],
    ['a subject with a space', { target: fn, source: { subject: { subject: 'orders created' } } }, 'must not contain whitespace'],
    ['a partial wildcard', { target: fn, source: { subject: { subject: 'orders.a*' } } },
      "spec.source.subject.subject: Invalid value: \"orders.a*\": token \"a*\": '*' and '>' are wildcards and must be a whole token"],
    ['a > before the end', { target: fn, source: { subject: { subject: 'orders.>.x' } } }, "'>' must be the last token"],
    ['a reserved subject mk.', { target: fn, source: { subject: { subject: 'mk.api.apply' } } },
      'spec.source.subject.subject: Invalid value: "mk.api.apply": "mk." is reserved for the system\'s own subjects'],
    ['a reserved subject $JS.', { target: fn, source: { subject: { subject: '$JS.API.>' } } }, '"$JS." is reserved'],
    ['a reserved subject $KV.', { target: fn, source: { subject: { subject: '$KV.mk-objects.>' } } }, '"$KV." is reserved'],
    ['a reserved subject _INBOX.', { target: fn, source: { subject: { subject: '_INBOX.x' } } }, '"_INBOX." is reserved'],
    ['a subject that matches everything', { target: fn, source: { subject: { subject: '>' } } }, 'must not start with a wildcard'],
    ['a leading wildcard', { target: fn, source: { subject: { subject: '*.api.apply' } } }, 'must not start with a wildcard'],
    ['a wildcard dead-letter subject', { target: fn, source: every5, deadLetterSubject: 'dead.*' },
      'spec.deadLetterSubject: Invalid value: "dead.*": token "*": a subject published to cannot hold wildcards'],
    ['a reserved dead-letter subject', { target: fn, source: every5, deadLetterSubject: 'mk.api.delete' }, 'spec.deadLetterSubject: Invalid value: "mk.api.delete"'],
    ['a filter with two operators', { target: fn, source: { subject: { subject: 'a', filters: [{ header: 'h', equals: 'x', present: true }] } } },
      'spec.source.subject.filters[0].present: Forbidden: may not be specified when `equals` is'],
    ['a filter on header and field', { target: fn, source: { subject: { subject: 'a', filters: [{ header: 'h', field: '$.a', present: true }] } } },
      'spec.source.subject.filters[0].field: Forbidden'],
    ['a filter without an operator', { target: fn, source: { subject: { subject: 'a', filters: [{ field: '$.a' }] } } },
      'spec.source.subject.filters[0]: Required value: must specify exactly one of: equals, matches, present'],
    ['a header equal to a number', { target: fn, source: { subject: { subject: 'a', filters: [{ header: 'h', equals: 5 }] } } },
      "spec.source.subject.filters[0].equals: Invalid value: 5: a header's value is text; quote it"],
    ['a bad header name', { target: fn, source: { subject: { subject: 'a', filters: [{ header: 'x y', present: true }] } } },
      'spec.source.subject.filters[0].header: Invalid value: "x y": must be a header name'],
    ['a path without $', { target: fn, source: { subject: { subject: 'a', filters: [{ field: 'order.id', present: true }] } } },
      "spec.source.subject.filters[0].field: Invalid value: \"order.id\": must be a JSONPath starting with '$'"],
    ['a filter expression', { target: fn, source: { subject: { subject: 'a', filters: [{ field: '$.items[?(@.n>1)]', present: true }] } } },
      'spec.source.subject.filters[0].field: Invalid value: "$.items[?(@.n>1)]": unsupported JSONPath at "[?(@.n>1)]"'],
    ['a bad pattern', { target: fn, source: { subject: { subject: 'a', filters: [{ header: 'h', matches: '(' }] } } },
      'spec.source.subject.filters[0].matches: Invalid value: "(": is not a regular expression'],
    ['a relative http path', { target: fn, source: { http: { path: 'hooks' } } },
      "spec.source.http.path: Invalid value: \"hooks\": must be an absolute path starting with '/'"],
    ['an http path with ..', { target: fn, source: { http: { path: '/hooks/../function/a/b' } } }, "must not hold a '.' or '..' segment"],
    ['an http path with an escaped ..', { target: fn, source: { http: { path: '/hooks/%2e%2e/x' } } }, "must not hold a '.' or '..' segment"],
    ['an http path with a query', { target: fn, source: { http: { path: '/hooks?x=1' } } }, 'must hold only URL path characters'],
    ['an http path under /function/', { target: fn, source: { http: { path: '/function/shop/add' } } },
      'spec.source.http.path: Invalid value: "/function/shop/add": "/function" is the gateway\'s own route'],
    ['the http path /function-results/x', { target: fn, source: { http: { path: '/function-results/x' } } }, '"/function-results" is the gateway\'s own route'],
    ['the http path /healthz', { target: fn, source: { http: { path: '/healthz' } } }, '"/healthz" is the gateway\'s own route'],
    ['the http path /metrics/', { target: fn, source: { http: { path: '/metrics/' } } }, '"/metrics" is the gateway\'s own route'],
    ['a duplicate method', { target: fn, source: { http: { path: '/x', methods: ['POST', 'POST'] } } }, 'spec.source.http.methods[1]: Duplicate value: "POST"'],
    ['an unknown method', { target: fn, source: { http: { path: '/x', methods: ['BREW'] } } }, 'spec.source.http.methods[0]: Invalid option'],
    ['a relative file path', { target: fn, source: { file: { node: 'n1', path: 'data/in' } } },
      "spec.source.file.path: Invalid value: \"data/in\": must be an absolute path starting with '/'"],
    ['a file path with ..', { target: fn, source: { file: { node: 'n1', path: '/data/../etc/passwd' } } },
      "spec.source.file.path: Invalid value: \"/data/../etc/passwd\": must not hold a '.' or '..' segment"],
    ['a file source without a node', { target: fn, source: { file: { path: '/data' } } }, 'spec.source.file.node'],
    ['no file events', { target: fn, source: { file: { node: 'n1', path: '/data', events: [] } } },
      'spec.source.file.events: Required value: name at least one of create, write, delete'],
    ['a negative debounce', { target: fn, source: { file: { node: 'n1', path: '/data', debounceMs: -1 } } },
      'spec.source.file.debounceMs: Invalid value: -1: must be between 0 and 3600000, inclusive'],
    ['zero attempts', { target: fn, source: every5, maxAttempts: 0 }, 'spec.maxAttempts: Invalid value: 0: must be between 1 and 100, inclusive'],
    ['a max backoff below the initial', { target: fn, source: every5, backoffSeconds: 120 },
      'spec.maxBackoffSeconds: Invalid value: 60: must be greater than or equal to backoffSeconds (120)'],
    ['an unknown concurrency policy', { target: fn, source: every5, concurrencyPolicy: 'Queue' }, 'spec.concurrencyPolicy: Invalid option'],
  ])('refuses %s, naming the field', (_what, spec, message) => {
    expect(problems(spec).join('\n')).toContain(message);
  });

  it('fills in the defaults: Allow, 3 attempts, 1 s doubling to 60 s; the dead-letter subject stays derived, as the schema refuses mk. subjects', () => {
    const t = defaultTrigger(valid({ target: { ...fn, input: { a: 1 } }, source: every5 }));
    expect(t.spec).toEqual({
      target: { function: 'add', input: { a: 1 }, inputMode: 'Merge' },
      source: every5,
      concurrencyPolicy: 'Allow', maxAttempts: 3, backoffSeconds: 1, maxBackoffSeconds: 60,
    });
    expect(TriggerSchema.safeParse(t).success).toBe(true);
    expect(defaultTrigger(valid({ target: fn, source: { file: { node: 'n1', path: '/d' } } })).spec.source.file)
      .toEqual({ node: 'n1', path: '/d', events: ['create', 'write', 'delete'], debounceMs: 100 });
    expect(defaultTrigger(valid({ target: fn, source: { http: { path: '/x' } } })).spec.source.http).toEqual({ path: '/x', methods: ['POST'] });
    expect(defaultTrigger(valid({ target: fn, source: every5, deadLetterSubject: 'dead.letters' })).spec.deadLetterSubject).toBe('dead.letters');
  });
});
