/** Command-line flags of the benchmarks. */

/**
 * Reads `--name N` as a positive integer, or `fallback` when absent. Throws on anything else,
 * with `usage` after the message when given.
 */
export function intFlag(args: string[], name: string, fallback: number, usage?: string): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} takes a positive integer (got ${args[i + 1] ?? 'nothing'})${usage ? `\n${usage}` : ''}`);
  return v;
}
