/**
 * Reading a command line without oclif, for the fast path (cli/fast-path.ts): a strict subset of
 * oclif's parser, driven by the command's entry in oclif.manifest.json (the flags and args its
 * class declares). Whatever falls outside the subset (help, `--`, a missing or unknown argument, a
 * value oclif would refuse, flag features the subset does not model) is declined with `undefined`,
 * and oclif parses it, words its errors and shows its help as before. Within the subset the result
 * is the one oclif's `this.parse` gives (test/unit/cli/argv.test.ts compares the two).
 */

/** A flag as oclif.manifest.json describes it; only the fields the subset reads or refuses. */
export interface FlagSpec {
  type: 'boolean' | 'option';
  char?: string;
  allowNo?: boolean;
  options?: string[];
  multiple?: boolean;
  default?: unknown;
  env?: string;
  aliases?: string[];
  charAliases?: string[];
  dependsOn?: string[];
  exclusive?: string[];
  relationships?: unknown[];
  required?: boolean;
  delimiter?: string;
  hasDynamicHelp?: boolean;
}

/** A positional argument as oclif.manifest.json describes it. */
export interface ArgSpec {
  required?: boolean;
  multiple?: boolean;
  options?: string[];
  default?: unknown;
}

/** A command's entry in oclif.manifest.json, as far as parsing goes. */
export interface CommandSpec {
  flags: Record<string, FlagSpec>;
  args: Record<string, ArgSpec>;
  strict?: boolean;
}

/** What a parse gives: the same shape as the `args` and `flags` of oclif's `this.parse`. */
export interface Parsed {
  args: Record<string, string | string[]>;
  flags: Record<string, string | boolean>;
}

/**
 * Rewrites `--wait=false` to `--no-wait` and `--wait=true` to `--wait` for boolean flags (oclif
 * takes only the bare forms; kubectl users type both). Arguments after `--` are left alone.
 */
export function normalizeBooleanFlags(argv: string[], flags: Record<string, { type?: string; allowNo?: boolean }>): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (const a of argv) {
    const m = passthrough ? null : /^--([a-z][a-z0-9-]*)=(true|false)$/.exec(a);
    if (a === '--') passthrough = true;
    const flag = m ? flags[m[1]] : undefined;
    if (!m || flag?.type !== 'boolean') {
      out.push(a);
    } else if (m[2] === 'true') {
      out.push(`--${m[1]}`);
    } else if (flag.allowNo) {
      out.push(`--no-${m[1]}`);
    }
  }
  return out;
}

/** True when the subset can parse this flag exactly as oclif would. */
function simpleFlag(f: FlagSpec): boolean {
  return (f.type === 'boolean' || f.type === 'option') && !f.multiple && f.default === undefined && !f.env
    && !f.aliases?.length && !f.charAliases?.length && !f.dependsOn?.length && !f.exclusive?.length
    && !f.relationships?.length && !f.required && !f.delimiter && !f.hasDynamicHelp;
}

/** True when the subset can parse these args exactly as oclif would: kind-like args, at most one variadic, last. */
function simpleArgs(args: ArgSpec[]): boolean {
  return args.every((a, i) => a.options === undefined && a.default === undefined && (!a.multiple || i === args.length - 1));
}

/**
 * Parses `argv` (the words after the command's name) against `spec`, or returns undefined when
 * the line is outside the subset. Accepted: `--name value`, `--name=value`, `-c value`, `-cvalue`,
 * `-c=value`, boolean `--name`, `--no-name` (when allowed), `-c` and runs of boolean chars (`-Aw`),
 * flags before, between and after the args. Declined: `--`, `--help`, unknown flags, a missing
 * value or one that looks like a flag, an empty value, a value outside the flag's options, a
 * flag given twice, too few args for the non-variadic ones, extra args, and any flag or arg with a
 * feature the subset does not model (defaults, env, aliases, multiple, relationships, ...).
 * Boolean flags not given are false.
 */
export function parseSimple(argv: string[], spec: CommandSpec): Parsed | undefined {
  const flagEntries = Object.entries(spec.flags);
  if (!flagEntries.every(([, f]) => simpleFlag(f))) return undefined;
  const argEntries = Object.entries(spec.args);
  if (!simpleArgs(argEntries.map(([, a]) => a))) return undefined;
  const byChar = new Map(flagEntries.filter(([, f]) => f.char).map(([name, f]) => [f.char as string, name]));

  const flags: Record<string, string | boolean> = {};
  const given = new Set<string>();
  const tokens: string[] = [];
  const queue = [...argv];
  // An option's value: present, not empty, not flag-like, and one of its options when it has them.
  const value = (f: FlagSpec, v: string | undefined): string | undefined =>
    v === undefined || v === '' || v.startsWith('-') || (f.options && !f.options.includes(v)) ? undefined : v;
  const set = (name: string, v: string | boolean): boolean => {
    if (given.has(name) && spec.flags[name].type === 'option') return false;
    given.add(name);
    flags[name] = v;
    return true;
  };

  while (queue.length > 0) {
    const word = queue.shift() as string;
    if (word === '--' || word === '--help') return undefined;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq === -1 ? undefined : eq);
      const f = Object.hasOwn(spec.flags, name) ? spec.flags[name] : undefined;
      if (f?.type === 'option') {
        const v = value(f, eq === -1 ? queue.shift() : word.slice(eq + 1));
        if (v === undefined || !set(name, v)) return undefined;
      } else if (f?.type === 'boolean' && eq === -1) {
        set(name, true);
      } else if (!f && eq === -1 && name.startsWith('no-') && spec.flags[name.slice(3)]?.type === 'boolean' && spec.flags[name.slice(3)].allowNo) {
        set(name.slice(3), false);
      } else {
        return undefined;
      }
    } else if (word.startsWith('-') && word !== '-') {
      const name = byChar.get(word[1]);
      if (!name) return undefined;
      const f = spec.flags[name];
      if (f.type === 'option') {
        const v = value(f, word.length === 2 ? queue.shift() : word.slice(word[2] === '=' ? 3 : 2));
        if (v === undefined || !set(name, v)) return undefined;
      } else {
        set(name, true);
        // oclif reads `-Aw` as `-A -w`.
        if (word.length > 2) queue.unshift(`-${word.slice(2)}`);
      }
    } else {
      tokens.push(word);
    }
  }

  const args: Record<string, string | string[]> = {};
  const variadic = argEntries.length > 0 && argEntries[argEntries.length - 1][1].multiple;
  const fixed = variadic ? argEntries.slice(0, -1) : argEntries;
  // oclif reads a missing leading arg from stdin when stdin is not a terminal: leave that to it.
  if (tokens.length < fixed.length) return undefined;
  if (!variadic && tokens.length > fixed.length && spec.strict !== false) return undefined;
  fixed.forEach(([name], i) => { args[name] = tokens[i]; });
  if (variadic && tokens.length > fixed.length) args[argEntries[argEntries.length - 1][0]] = tokens.slice(fixed.length);
  for (const [name, f] of flagEntries) if (f.type === 'boolean' && !given.has(name)) flags[name] = false;
  return { args, flags };
}
