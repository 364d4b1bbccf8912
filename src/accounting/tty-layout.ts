/**
 * Width-aware lines for the terminal progress block (tty-progress.ts). Pure: numbers in, one line out,
 * never longer than the width it is given, so the terminal never wraps a line (a wrapped line breaks
 * the cursor arithmetic of the redraw and is what "corrupts the screen").
 *
 * A line is a list of fields with a fixed drop order. The widest layout that fits wins: first with
 * two-space gaps, then one; then fields are dropped one at a time, in that order; the bar (and on file
 * lines the name) are elastic and take what is left, within their bounds. What goes last is the
 * percentage: it is the one number that says where things are.
 */
import { formatBytes, formatEta, formatRate } from './format.js';

export interface OverallView {
  fraction: number;
  doneBytes: number;
  totalBytes: number;
  /** Bytes per second now. */
  rate: number;
  etaSec?: number;
  filesDone: number;
  files: number;
  filesFailed?: number;
}

export interface FileView {
  name: string;
  fraction: number;
  doneBytes: number;
  size: number;
  rate: number;
  etaSec?: number;
}

/** Bar bounds, brackets included. */
const BAR_MIN = 12;
const BAR_MAX = 32;
/** A file name keeps at least this much (its end) before numbers are dropped for it. */
const NAME_MIN = 12;
const NAME_MAX = 50;

interface Field {
  /** Lower drops first; Infinity never drops. */
  keep: number;
  text?: string;
  /** An elastic field: 'bar' draws `fraction`; 'name' shows the end of `text`. */
  elastic?: { kind: 'bar' | 'name'; min: number; max: number; fraction?: number };
}

/** `Total [=====-----]  42.1%  1.20 GiB/2.90 GiB  10.0 MiB/s  ETA 2:51  3/50 files`. */
export function overallLine(v: OverallView, width: number): string {
  return layout(
    [
      { keep: 0, text: 'Total' },
      { keep: 1, elastic: { kind: 'bar', min: BAR_MIN, max: BAR_MAX, fraction: v.fraction } },
      { keep: Infinity, text: pct(v.fraction) },
      { keep: 2, text: `${formatBytes(v.doneBytes)}/${formatBytes(v.totalBytes)}` },
      { keep: 6, text: formatRate(v.rate) },
      { keep: 7, text: `ETA ${formatEta(v.etaSec)}` },
      { keep: 5, text: `${v.filesDone}/${v.files} files` },
      ...(v.filesFailed ? [{ keep: 4, text: `${v.filesFailed} failed` }] : []),
    ],
    width,
  );
}

/** `…/run1/reads_1.fq.gz  [====------]  42.1%  31.6 MiB/75.0 MiB  2.5 MiB/s  ETA 0:17`. */
export function fileLine(v: FileView, width: number, nameWidth = NAME_MAX): string {
  const name = Math.min(NAME_MAX, Math.max(NAME_MIN, nameWidth));
  return layout(
    [
      { keep: 6, text: v.name, elastic: { kind: 'name', min: NAME_MIN, max: name } },
      { keep: 1, elastic: { kind: 'bar', min: BAR_MIN, max: 22, fraction: v.fraction } },
      { keep: Infinity, text: pct(v.fraction) },
      { keep: 2, text: `${formatBytes(v.doneBytes)}/${formatBytes(v.size)}` },
      { keep: 3, text: formatRate(v.rate) },
      { keep: 4, text: `ETA ${formatEta(v.etaSec)}` },
    ],
    width,
  );
}

/** The line under the file bars for the active files that have none. */
export function moreLine(more: number, width: number): string {
  return clip(`+${more} more`, width);
}

/** Cuts a line to `width` characters (counting UTF-16 units; our lines are ASCII but for file names). */
export function clip(line: string, width: number): string {
  return line.length <= width ? line : line.slice(0, Math.max(0, width));
}

function layout(fields: Field[], width: number): string {
  const order = [...new Set(fields.map((f) => f.keep))].sort((a, b) => a - b);
  let shown = fields;
  for (let dropped = 0; ; dropped++) {
    // Wide gaps only while they cost no letter of a file name.
    const wide = fit(shown, '  ', width);
    if (wide !== undefined && !wide.nameCut) return wide.line;
    const narrow = fit(shown, ' ', width);
    if (narrow !== undefined) return narrow.line;
    if (dropped >= order.length || order[dropped] === Infinity) break;
    const cut = order[dropped];
    shown = shown.filter((f) => f.keep !== cut);
  }
  return clip(fit(shown, ' ', Number.MAX_SAFE_INTEGER)?.line ?? '', width);
}

/** The fields with `gap` between them in `width`, elastic ones sized to fill; undefined if too wide. */
function fit(fields: Field[], gap: string, width: number): { line: string; nameCut: boolean } | undefined {
  const fixed = fields.reduce((n, f) => n + (f.elastic ? f.elastic.min : f.text!.length), 0);
  let spare = width - fixed - gap.length * Math.max(0, fields.length - 1);
  if (spare < 0) return undefined;
  const sizes = new Map<Field, number>();
  let nameCut = false;
  // Names first (a full name is worth more than a longer bar), then bars.
  for (const kind of ['name', 'bar'] as const) {
    for (const f of fields) {
      if (f.elastic?.kind !== kind) continue;
      const e = f.elastic;
      const want = kind === 'name' ? Math.min(e.max, Math.max(f.text!.length, e.min)) : e.max;
      const extra = Math.max(0, Math.min(spare, want - e.min));
      sizes.set(f, e.min + extra);
      spare -= extra;
      if (kind === 'name' && e.min + extra < Math.min(f.text!.length, e.max)) nameCut = true;
    }
  }
  const line = fields
    .map((f) => {
      const size = sizes.get(f);
      if (size === undefined) return f.text!;
      return f.elastic!.kind === 'bar' ? bar(f.elastic!.fraction ?? 0, size) : nameIn(f.text!, size);
    })
    .join(gap);
  return { line, nameCut };
}

function bar(fraction: number, size: number): string {
  const inner = size - 2;
  const full = Math.max(0, Math.min(inner, Math.round(fraction * inner)));
  return `[${'='.repeat(full)}${'-'.repeat(inner - full)}]`;
}

/** Pads or shortens a name to `width`, keeping its end (the file name is the informative part). */
function nameIn(name: string, width: number): string {
  if (name.length <= width) return name.padEnd(width);
  return `…${name.slice(name.length - width + 1)}`;
}

function pct(fraction: number): string {
  return `${(Math.max(0, Math.min(1, fraction)) * 100).toFixed(1).padStart(5)}%`;
}
