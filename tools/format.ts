/**
 * Output for people: FreeBSD-style columns (cli-table3 with its borders blanked: a header row and
 * space-separated, padded columns), durations and rates.
 */
import Table from 'cli-table3';

/** Column alignment. */
export type Align = 'left' | 'right';

/** Options of {@link table}. */
export interface TableOptions {
  /** Per column; default: right for cells that are all numbers, else left. */
  align?: Align[];
  /** Spaces between columns (default 2). */
  gap?: number;
}

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '',
};

/**
 * A table as lines of text: a header row, then one row per entry, columns padded to their widest
 * cell, no trailing spaces.
 */
export function table(headers: string[], rows: Array<Array<string | number>>, opts: TableOptions = {}): string {
  const gap = opts.gap ?? 2;
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number'));
  const align = headers.map((_, c) => opts.align?.[c] ?? (numeric[c] ? 'right' : 'left'));
  const t = new Table({
    head: headers,
    chars: NO_BORDER,
    colAligns: align,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': gap, compact: true },
  });
  for (const r of rows) t.push(r.map((v) => String(v)));
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

/** Milliseconds as FreeBSD ps's elapsed time: [[dd-]hh:]mm:ss. */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hms = `${h > 0 || d > 0 ? `${pad(h)}:` : ''}${pad(m)}:${pad(s % 60)}`;
  return d > 0 ? `${d}-${hms}` : hms;
}

/** A per-second rate with at most one decimal (integers stay integers). */
export function rate(perSecond: number): string {
  return Number.isInteger(perSecond) ? String(perSecond) : perSecond.toFixed(1);
}
