/** examples/triggers.yaml: every manifest is a valid Trigger, and each source kind the engine serves is shown. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAll } from 'js-yaml';
import { TriggerSchema, type Trigger } from '../../messages/trigger';

describe('examples/triggers.yaml', () => {
  it('holds valid Triggers: a schedule, a subject with filters, an HTTP path and a file', () => {
    const docs = loadAll(fs.readFileSync(path.resolve(__dirname, '..', '..', 'examples', 'triggers.yaml'), 'utf8')).filter(Boolean);
    const triggers = docs.map((d) => TriggerSchema.parse(d) as unknown as Trigger);
    expect(triggers.map((t) => Object.keys(t.spec.source)[0])).toEqual(['schedule', 'subject', 'http', 'file']);
  });
});
