import { KINDS } from '../messages';
import { KIND_MODULES, moduleFor } from './kinds';

describe('kind modules', () => {
  it('every kind of the registry has exactly one control-plane module, and no module has a kind the registry lacks', () => {
    for (const k of KINDS) expect(KIND_MODULES.filter((m) => m.info === k)).toHaveLength(1);
    for (const m of KIND_MODULES) expect(KINDS).toContain(m.info);
  });

  it('a kind kept outside the object store has a source, and only such a kind', () => {
    for (const m of KIND_MODULES) expect(!!m.source).toBe(m.info.storage === 'stream');
  });

  it('resolves the names users type and refuses an unknown one instead of falling back', () => {
    expect(moduleFor('po').info.kind).toBe('Pod');
    expect(moduleFor('Namespace').info.plural).toBe('namespaces');
    expect(moduleFor('rs').info.kind).toBe('ReplicaSet');
    expect(() => moduleFor('widgets')).toThrow(/doesn't have a resource type "widgets"/);
    expect(() => moduleFor(42)).toThrow(/kind must be a string/);
  });
});
