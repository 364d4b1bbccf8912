/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): self time per function, across every
 * .cpuprofile in a folder (the main thread and each worker thread write one each).
 *
 *   node dist/bench/profile.js <dir> [--top 15]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  ms: number;
  share: number;
}

export interface ThreadProfile {
  file: string;
  wallMs: number;
  /** Sampled time not idle ("(idle)" and "(program)" excluded from busy). */
  busyMs: number;
  top: SelfTime[];
  /** Self time by where the code lives: a package under node_modules, a folder of ours, node itself. */
  byPlace: SelfTime[];
}

function place(url: string, root: string): string {
  if (!url) return '(native / vm)';
  if (url.startsWith('node:')) return 'node core';
  const rel = relative(root, url.replace(/^file:\/\//, ''));
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(rel);
  if (nm) return nm[1];
  return rel.split('/').slice(0, 3).join('/');
}

function label(n: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${relative(root, url.replace(/^file:\/\//, '')) || url}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

export function summarise(path: string, top = 15, root = process.cwd()): ThreadProfile {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const places = new Map<string, number>();
  // timeDeltas[i] is the time before sample i; attribute it to that sample's node.
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    if (!n) continue;
    const key = label(n, root);
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    self.set(key, (self.get(key) ?? 0) + ms);
    if (!key.startsWith('(idle)') && !key.startsWith('atomicsWaitLoop')) {
      const where = place(n.callFrame.url, root);
      places.set(where, (places.get(where) ?? 0) + ms);
    }
  }
  const wallMs = (p.endTime - p.startTime) / 1000;
  // piscina's idle workers block in Atomics.wait inside atomicsWaitLoop: waiting, not working.
  const busyMs = [...self]
    .filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('atomicsWaitLoop'))
    .reduce((s, [, v]) => s + v, 0);
  const sorted = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  const byPlace = [...places].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return {
    file: path,
    wallMs,
    busyMs,
    top: sorted.map(([fn, ms]) => ({ fn, ms, share: ms / wallMs })),
    byPlace: byPlace.map(([fn, ms]) => ({ fn, ms, share: ms / wallMs })),
  };
}

export function summariseDir(dir: string, top = 15, root = process.cwd()): ThreadProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summarise(join(dir, f), top, root))
    .sort((a, b) => b.busyMs - a.busyMs);
}

export function profileMarkdown(title: string, threads: ThreadProfile[]): string {
  const out = [`### ${title}`];
  for (const t of threads) {
    out.push(
      '',
      `${t.file.split('/').pop()}: wall ${(t.wallMs / 1000).toFixed(1)} s, busy ${(t.busyMs / 1000).toFixed(1)} s (${((t.busyMs / t.wallMs) * 100).toFixed(0)}%)`,
      '',
      '| self ms | % of wall | function |',
      '|---:|---:|---|',
    );
    for (const s of t.top) out.push(`| ${s.ms.toFixed(0)} | ${(s.share * 100).toFixed(1)} | \`${s.fn}\` |`);
    out.push('', `busy time by place: ${t.byPlace.map((s) => `${s.fn} ${s.ms.toFixed(0)} ms`).join(', ')}`);
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--top');
  const top = i >= 0 ? Number(process.argv[i + 1]) : 15;
  console.log(profileMarkdown(process.argv[2], summariseDir(process.argv[2], top)));
}
