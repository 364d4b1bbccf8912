/**
 * Benchmark output: one markdown table (stdout), the whole run as JSON and a bar chart of throughput
 * against the limits as hand-written SVG, both in bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Group = 'limit' | 'platform' | 'direct' | 'peer';

export interface Row {
  id: string;
  group: Group;
  name: string;
  /** What was run, for rerunning one row by hand. */
  command?: string;
  bytes?: number;
  files?: number;
  seconds?: number;
  /** user+sys of the measured process (all threads; for limits, the timed section only). */
  clientCpuS?: number;
  /** user+sys of the separate server process over the row (none for in-process limits). */
  serverCpuS?: number;
  peakRssMiB?: number;
  serverPeakRssMiB?: number;
  /** The row this one is compared with (its limit). */
  limit?: string;
  /** The goal as a fraction of the limit (issue 6), or a files/s goal. */
  goalRatio?: number;
  goalFilesPerS?: number;
  /** Rows of other tools doing the same job; the best one's MB/s is the comparison. */
  peers?: string[];
  skipped?: string;
  note?: string;
}

export interface Machine {
  cores: number;
  model: string;
  node: string;
  loadAtStart: number[];
  loadAtEnd?: number[];
  memGiB: number;
  kernel: string;
}

export interface Report {
  startedAt: string;
  command: string;
  quick: boolean;
  machine: Machine;
  rows: Row[];
}

const mbps = (r: Row) => (r.bytes && r.seconds ? r.bytes / 1e6 / r.seconds : undefined);
const filesps = (r: Row) => (r.files && r.files > 1 && r.seconds ? r.files / r.seconds : undefined);
const perGB = (cpu: number | undefined, r: Row) =>
  cpu !== undefined && r.bytes ? cpu / (r.bytes / 1e9) : undefined;
const f = (v: number | undefined, digits = 0) =>
  v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits);

function comparisons(r: Row, byId: Map<string, Row>): { vsLimit: string; vsPeer: string } {
  let vsLimit = '';
  const own = mbps(r);
  if (r.goalFilesPerS && filesps(r)) {
    const ratio = filesps(r)! / r.goalFilesPerS;
    vsLimit = `${(ratio * 100).toFixed(0)}% of ${r.goalFilesPerS} files/s goal ${ratio >= 1 ? '✓' : '✗'}`;
  } else if (r.limit && own) {
    const lim = byId.get(r.limit);
    const l = lim && mbps(lim);
    if (l) {
      const ratio = own / l;
      const goal = r.goalRatio
        ? ` (goal ${(r.goalRatio * 100).toFixed(0)}% ${ratio >= r.goalRatio ? '✓' : '✗'})`
        : '';
      vsLimit = `${(ratio * 100).toFixed(0)}% of ${lim.id}${goal}`;
    }
  }
  let vsPeer = '';
  const peers = (r.peers ?? []).map((id) => byId.get(id)).filter((p): p is Row => !!p && !!mbps(p));
  if (own && peers.length) {
    const best = peers.reduce((a, b) => (mbps(a)! >= mbps(b)! ? a : b));
    vsPeer = `${((own / mbps(best)!) * 100).toFixed(0)}% of ${best.id}`;
  }
  return { vsLimit, vsPeer };
}

export function machineLine(m: Machine): string {
  return `${m.cores} cores (${m.model}), ${m.memGiB.toFixed(0)} GiB RAM, Linux ${m.kernel}, Node ${m.node}; load average at start ${m.loadAtStart.map((x) => x.toFixed(2)).join(' ')}${m.loadAtEnd ? `, at end ${m.loadAtEnd.map((x) => x.toFixed(2)).join(' ')}` : ''}`;
}

export function markdown(rep: Report): string {
  const byId = new Map(rep.rows.map((r) => [r.id, r]));
  const lines = [
    `Machine: ${machineLine(rep.machine)}`,
    `Command: \`${rep.command}\` (${rep.startedAt})`,
    '',
    '| id | scenario | MB/s | files/s | CPU s/GB client | CPU s/GB server | peak RSS MiB client / server | vs limit | vs best peer | note |',
    '|---|---|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const r of rep.rows) {
    if (r.skipped) {
      lines.push(`| ${r.id} | ${r.name} | | | | | | | | skipped: ${r.skipped} |`);
      continue;
    }
    const { vsLimit, vsPeer } = comparisons(r, byId);
    const rss = `${f(r.peakRssMiB)}${r.serverPeakRssMiB !== undefined ? ` / ${f(r.serverPeakRssMiB)}` : ''}`;
    lines.push(
      `| ${r.id} | ${r.name} | ${f(mbps(r))} | ${f(filesps(r))} | ${f(perGB(r.clientCpuS, r), 2)} | ${f(perGB(r.serverCpuS, r), 2)} | ${rss} | ${vsLimit} | ${vsPeer} | ${r.note ?? ''} |`,
    );
  }
  const chart = peerChart(rep);
  return [...lines, ...(chart ? ['', chart] : [])].join('\n');
}

/**
 * A text chart of each row that has peers (ua's direct rows) next to them: MB/s as bars and the
 * ua / peer ratio, so the comparison reads in a README without an image.
 */
export function peerChart(rep: Report, width = 40): string {
  const byId = new Map(rep.rows.map((r) => [r.id, r]));
  const groups = rep.rows
    .filter((r) => r.peers?.length && mbps(r))
    .map((r) => [r, ...r.peers!.map((id) => byId.get(id)).filter((p): p is Row => !!p)]);
  if (groups.length === 0) return '';
  const max = Math.max(...groups.flat().map((r) => mbps(r) ?? 0));
  const label = Math.max(...groups.flat().map((r) => r.id.length));
  const out = [
    '```text',
    `MB/s (bar: ${(max / width).toFixed(1)} MB/s per character); ratio = ua / that row`,
  ];
  for (const [own, ...peers] of groups) {
    out.push('');
    for (const r of [own, ...peers]) {
      const v = mbps(r);
      const bar = v ? '#'.repeat(Math.max(1, Math.round((v / max) * width))) : '';
      const ratio = r === own || !v ? '' : `  ua ${(mbps(own)! / v).toFixed(2)}x`;
      out.push(
        `${r.id.padEnd(label)} ${bar.padEnd(width)} ${v ? f(v).padStart(4) : r.skipped ? 'skipped' : '-'}${ratio}`,
      );
    }
  }
  out.push('```');
  return out.join('\n');
}

const COLORS: Record<Group, string> = {
  limit: '#9aa5b1',
  platform: '#2f6fdf',
  direct: '#1f9d6b',
  peer: '#d9822b',
};

/** Horizontal bars of MB/s, one per measured row, coloured by group. */
export function svgChart(rep: Report): string {
  const rows = rep.rows.filter((r) => !r.skipped && mbps(r));
  const max = Math.max(1, ...rows.map((r) => mbps(r)!));
  const left = 330;
  const width = 900;
  const barW = width - left - 80;
  const h = 22;
  const top = 40;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + rows.length * h + 40}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(`ua throughput against this machine's limits (MB/s) — ${rep.machine.cores} cores, Node ${rep.machine.node}${rep.quick ? ', --quick' : ''}`)}</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * h;
    const w = Math.max(1, (mbps(r)! / max) * barW);
    parts.push(
      `<text x="${left - 6}" y="${y + 14}" text-anchor="end">${esc(`${r.id}: ${r.name}`.slice(0, 52))}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${h - 6}" fill="${COLORS[r.group]}"/>`,
      `<text x="${(left + w + 4).toFixed(1)}" y="${y + 14}">${f(mbps(r))}</text>`,
    );
  });
  const ly = top + rows.length * h + 20;
  (Object.keys(COLORS) as Group[]).forEach((g, i) => {
    parts.push(
      `<rect x="${left + i * 110}" y="${ly - 10}" width="12" height="12" fill="${COLORS[g]}"/>`,
      `<text x="${left + i * 110 + 16}" y="${ly}">${g}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes bench/results/<stamp>.json and .svg; returns their paths. */
export function writeResults(dir: string, rep: Report): { json: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = rep.startedAt.replace(/[:.]/g, '-');
  const json = join(dir, `${stamp}${rep.quick ? '-quick' : ''}.json`);
  const svg = json.replace(/\.json$/, '.svg');
  writeFileSync(json, `${JSON.stringify(rep, null, 2)}\n`);
  writeFileSync(svg, `${svgChart(rep)}\n`);
  return { json, svg };
}
