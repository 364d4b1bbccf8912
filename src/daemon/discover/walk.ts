/**
 * Walking watch roots and run folders, and telling which files another process holds open for
 * writing. The walk is synchronous but yields to the event loop every few hundred entries, so parts
 * keep flowing while a 100,000-file run is scanned (a stat costs ~5 µs here; a full pass of 100,000
 * files ~0.6 s of CPU, spread over the scan).
 *
 * Hidden entries (a leading dot) are skipped: rsync writes `.name.XXXXXX` and renames it when done,
 * NFS leaves `.nfsXXXX` files, and instruments write no dot files.
 */
import { readdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldNow } from 'node:timers/promises';

/** Immediate, non-hidden subfolders of a watch root (candidate runs). */
export function subfolders(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || e.isSymbolicLink()))
      .map((e) => e.name)
      .filter((name) => {
        try {
          return statSync(join(root, name)).isDirectory();
        } catch {
          return false;
        }
      })
      .sort();
  } catch {
    return [];
  }
}

export interface WalkedFile {
  /** Path inside the run, forward slashes. */
  rel: string;
  abs: string;
  st: Stats;
}

/**
 * Regular files under `dir` (recursive, symlinked files followed, symlinked directories not: a run
 * folder is not a place for loops), top-level files first so RunInfo.xml and the sample sheet are
 * found, and uploaded, before the bulk.
 */
export async function* walkRun(
  dir: string,
  skip: (rel: string) => boolean = () => false,
): AsyncGenerator<WalkedFile> {
  const stack: string[] = [''];
  let sinceYield = 0;
  while (stack.length > 0) {
    const relDir = stack.shift()!;
    let list;
    try {
      list = readdirSync(join(dir, relDir), { withFileTypes: true });
    } catch {
      continue; // vanished, or unreadable: the next scan tries again
    }
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (const e of list) {
      if (e.name.startsWith('.')) continue;
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      if (skip(rel)) continue;
      if (e.isDirectory()) {
        subdirs.push(rel);
        continue;
      }
      if (!e.isFile() && !e.isSymbolicLink()) continue;
      const abs = join(dir, rel);
      let st: Stats;
      try {
        st = statSync(abs);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      yield { rel, abs, st };
      if (++sinceYield >= 256) {
        sinceYield = 0;
        await yieldNow();
      }
    }
    stack.push(...subdirs);
  }
}

const O_ACCMODE = 0o3;

/**
 * `dev:ino` of every file some process visible in /proc holds open for writing (Linux; elsewhere
 * an empty set, so settling relies on time alone). Only the processes this user may inspect are
 * seen; an instrument writing over NFS/SMB from another machine is not, and there the settle time
 * is the guard.
 */
export function filesOpenForWriting(): Set<string> {
  const out = new Set<string>();
  if (process.platform !== 'linux') return out;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
        const flags = /^flags:\s*([0-7]+)/m.exec(info);
        if (!flags || (parseInt(flags[1], 8) & O_ACCMODE) === 0) continue;
        if (!readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/')) continue; // pipes, sockets
        const st = statSync(`/proc/${pid}/fd/${fd}`);
        if (st.isFile()) out.add(`${st.dev}:${st.ino}`);
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return out;
}
