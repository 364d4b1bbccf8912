/**
 * The classic `.system-fileSignature` (ua-behavior §4.1) and the duplicate check (§4.6). The format
 * is byte-for-byte the classic one, so an upload started by the classic agent can be resumed by ours
 * and vice versa.
 */
import { UsageError } from '../errors.js';
import { realpathSync } from 'node:fs';
import type { UploadEntry } from './inputs.js';

/** The property written on every non-stdin file and searched to resume. */
export const SIGNATURE_PROPERTY = '.system-fileSignature';

/** Absolute path, symlinks resolved, forward slashes (the classic canonical form). */
export function canonicalPath(path: string): string {
  return realpathSync(path).replace(/\\/g, '/');
}

/**
 * `<size> <mtime, integer seconds> <compress 1|0> <effective chunk size> <canonical absolute path>`.
 * The path is last and may contain spaces. `chunkSize` must be the value after the 10,000-part raise.
 */
export function fileSignature(
  size: number,
  mtimeMs: number,
  compress: boolean,
  chunkSize: number,
  canonical: string,
): string {
  return `${size} ${Math.floor(mtimeMs / 1000)} ${compress ? 1 : 0} ${chunkSize} ${canonical.replace(/\\/g, '/')}`;
}

/** The classic duplicate key: `<projectID> <size> <mtime> <canonical path>`. */
export function duplicateKey(projectId: string, size: number, mtimeMs: number, canonical: string): string {
  return `${projectId} ${size} ${Math.floor(mtimeMs / 1000)} ${canonical.replace(/\\/g, '/')}`;
}

/**
 * Two inputs that are the same local file going to the same project would both match one resume
 * signature. Classic checked only positional files and --recursive walks; this checks every entry
 * (stdin excluded). Throws UsageError with the classic text; skipped by the caller with --do-not-resume.
 */
export function duplicateCheck(files: ReadonlyArray<{ projectId: string; entry: UploadEntry }>): void {
  const seen = new Map<string, string>();
  for (const { projectId, entry } of files) {
    if (entry.stdin) continue;
    const key = duplicateKey(projectId, entry.size, entry.mtimeMs, entry.canonicalPath);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new UsageError(
        `File "${other}" and "${entry.localPath}" have same Signature. You cannot upload two files with same signature to same project without using '--do-not-resume' flag`,
      );
    }
    seen.set(key, entry.localPath);
  }
}
