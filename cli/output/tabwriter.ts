/**
 * Go's text/tabwriter, the part kubectl uses: cells are tab-terminated, a column block is a run of
 * consecutive lines that have a cell in that column, and each block is as wide as its widest cell
 * plus padding. Reproducing the algorithm (not an approximation) is what makes `mk get` and
 * `mk describe` line up exactly like kubectl (https://pkg.go.dev/text/tabwriter).
 */

/** Column settings: kubectl's `get` uses minWidth 6, padding 3; `describe` uses 0 and 2. */
export interface TabwriterOptions {
  minWidth: number;
  padding: number;
}

/** The settings of kubectl's printers.GetNewTabWriter (tables). */
export const TABLE_TABWRITER: TabwriterOptions = { minWidth: 6, padding: 3 };
/** The settings of kubectl's describe writer. */
export const DESCRIBE_TABWRITER: TabwriterOptions = { minWidth: 0, padding: 2 };

/** Formats `text` (lines of tab-separated cells) the way Go's tabwriter does after Flush. */
export function tabwrite(text: string, opts: TabwriterOptions): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        const c = cells[j];
        s += c;
        // Only tab-terminated cells (all but the last) are padded to their column's width.
        if (j < cells.length - 1 && j < widths.length) s += ' '.repeat(Math.max(0, widths[j] - width(c)));
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur].length - 1) continue;
      writeLines(start, cur);
      start = cur;
      let w = opts.minWidth;
      for (; cur < line1; cur++) {
        const cells = lines[cur];
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]) + opts.padding);
      }
      widths.push(w);
      format(start, cur);
      widths.pop();
      start = cur;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}

/** Display width: code points, which is what Go's tabwriter counts for UTF-8 text. */
function width(s: string): number {
  return [...s].length;
}

/** Renders a table (header row plus rows) with kubectl's table settings; trailing newline included. */
export function renderTable(header: string[] | null, rows: string[][]): string {
  const all = header ? [header, ...rows] : rows;
  if (all.length === 0) return '';
  return tabwrite(all.map((r) => r.join('\t')).join('\n') + '\n', TABLE_TABWRITER);
}
