import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Worker threads cannot run TypeScript, so tests compile the current part-task sources into a fresh
 * dir under node_modules/.cache (inside the project, so `piscina` resolves) instead of trusting a
 * possibly stale dist/. Returns the worker file and a cleanup.
 */
export function buildPartWorker(): { filename: string; cleanup(): void } {
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'ua-part-task-'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      join(ROOT, 'src/work/part-task.ts'),
      '--outDir',
      out,
      '--rootDir',
      join(ROOT, 'src/work'),
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      '--types',
      'node',
    ],
    { stdio: 'pipe' },
  );
  return {
    filename: join(out, 'part-task.js'),
    cleanup: () => rmSync(out, { recursive: true, force: true }),
  };
}
