/**
 * Positionals → an ordered list of upload entries, decided before anything is created remotely
 * (ua-behavior §1.4, §1.5, §1.9, §1.10). Reads the file system only.
 *
 * Forms, per positional i (projects/folders/names matched by index, §1.4):
 * - a regular file → one entry named names[i] or its basename, in folders[i];
 * - a directory → its top-level regular files (subdirectories only with --recursive), in
 *   folders[i] + '/' + names[i] (nothing appended when that name is `.`, i.e. `dir/` or `.`), each
 *   subdirectory appending its own name. Sorted by name (classic: directory order), symlinks followed,
 *   each real directory walked once (classic had no loop protection);
 * - a glob, when the argument is not an existing path and has glob magic (fast-glob, `dot: false`,
 *   files only, sorted): like the shell's expansion, every match goes flat into folders[i];
 * - with --manifest, positional 0 is the manifest (§1.5): projects in sorted key order, entries in
 *   array order, every path checked up front (classic uploaded no data for them at all);
 * - with --read-from-stdin, the one positional only names the remote file.
 * `--include`, `--exclude` and `--exclude-from` (plan/filter.ts, rclone's rules) select files of the
 * first three forms by their path relative to the argument's base (a directory, a glob's static
 * part, a file's own directory). `--files-from` (plan/files-from.ts) replaces the walk of its one
 * directory argument with the files its list names.
 */
import { UsageError } from '../errors.js';
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import fg from 'fast-glob';
import { FILE_LIMIT_MESSAGE, MAX_FILES, type UaOptions } from '../config/options.js';
import { checkFilesFrom, listedFiles } from './files-from.js';
import { buildFilter, type FileFilter } from './filter.js';
import { checkStdinLists } from './lists.js';
import { canonicalPath } from './signature.js';
import { readManifest } from './manifest.js';
import type { TarBatch } from '../read/tar-source.js';

/** What identifies one version of one file (read/source.ts checks it); the optional fields are unknown for hand-made entries. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  dev?: number;
  ino?: number;
  ctimeMs?: number;
}

export function identityOf(st: Stats): Required<FileIdentity> {
  return { size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino, ctimeMs: st.ctimeMs };
}

/** One local file (or stdin) and where it goes. */
export interface UploadEntry extends FileIdentity {
  /** Position in the output: one result line per entry, in this order. */
  order: number;
  /** The path as given, or joined from the argument (directory walk, glob match, manifest). */
  localPath: string;
  absPath: string;
  /** Symlinks resolved, forward slashes: the identity in the resume signature. */
  canonicalPath: string;
  /** Project name or ID as given (resolved later). */
  projectSpec: string;
  folder: string;
  /** Remote name before `.gz` is appended. */
  name: string;
  /** Which form produced it (`tar`: the daemon's tar batches, plan/tar-plan.ts), and the index of its positional. */
  source: 'file' | 'directory' | 'glob' | 'manifest' | 'stdin' | 'tar';
  argIndex: number;
  /** stdin: size and mtime are 0 (unknown), paths are empty. */
  stdin?: boolean;
  /**
   * A tar batch read from its members (read/tar-source.ts): size is the archive's, absPath and
   * canonicalPath are empty, and the identity fields describe no single file.
   */
  tar?: TarBatch;
}

export interface ExpandHooks {
  /** Verbose-level notes: skipped non-regular files, symlink loops, excluded arguments. */
  onWarning?: (message: string) => void;
}

const at = (list: readonly string[], i: number): string | undefined =>
  list.length === 1 ? list[0] : list[i];

/** Classic (boost v3) file name: `dir/` → `.`. */
function classicBasename(p: string): string {
  return /[/\\]$/.test(p) ? '.' : basename(p);
}

/** Classic path append: no normalisation, one separator. */
function appendFolder(folder: string, name: string): string {
  return folder.endsWith('/') ? `${folder}${name}` : `${folder}/${name}`;
}

/** Expands positionals in argument order; throws UsageError (exit 1, no help) on the first bad input. */
export function expandInputs(
  positionals: readonly string[],
  o: UaOptions,
  projectContext?: string,
  hooks: ExpandHooks = {},
): UploadEntry[] {
  const warn = hooks.onWarning ?? (() => {});
  const entries: UploadEntry[] = [];
  checkStdinLists(o);
  checkFilesFrom(o, positionals);
  const filter = buildFilter(o);
  let counted = 0;
  const count = () => {
    if (!o.overrideFileLimit && ++counted > MAX_FILES) throw new UsageError(FILE_LIMIT_MESSAGE);
  };
  if (!o.overrideFileLimit && !o.readFromStdin && positionals.length > MAX_FILES) {
    throw new UsageError(FILE_LIMIT_MESSAGE);
  }
  type Dest = Pick<UploadEntry, 'projectSpec' | 'folder' | 'name' | 'source' | 'argIndex'>;
  const add = (localPath: string, st: Stats, dest: Dest) => {
    const absPath = resolve(localPath);
    entries.push({
      order: entries.length,
      localPath,
      absPath,
      canonicalPath: canonicalPath(absPath),
      ...identityOf(st),
      ...dest,
    });
  };

  positionals.forEach((arg, i) => {
    const projectSpec = at(o.projects, i) ?? projectContext;
    if (!projectSpec) {
      throw new UsageError(
        'A project must be specified (or present in environment variables/config file). You may use --project to specify project id/name on command line',
      );
    }
    const folder = at(o.folders, i) ?? '/';
    const name = o.names[i];
    if (o.readFromStdin) {
      const stdinName = name ?? classicBasename(arg);
      entries.push({
        order: entries.length,
        localPath: arg,
        absPath: '',
        canonicalPath: '',
        size: 0,
        mtimeMs: 0,
        projectSpec,
        folder,
        name: stdinName,
        source: 'stdin',
        argIndex: i,
        stdin: true,
      });
      return;
    }
    if (o.manifest && i === 0) {
      for (const m of readManifest(arg)) {
        const st = statOrUndefined(m.path);
        if (!st)
          throw new UsageError(
            `File "${m.path}" does not exist (listed in the manifest file '${arg}' for project '${m.project}')`,
          );
        if (!st.isFile()) throw new UsageError(`Argument ${m.path} is not a regular file or directory.`);
        add(m.path, st, {
          projectSpec: m.project,
          folder: m.folder,
          name: m.name,
          source: 'manifest',
          argIndex: i,
        });
      }
      return;
    }
    const st = statOrUndefined(arg);
    if (st?.isFile()) {
      count();
      if (!filter.file(basename(arg)))
        return warn(`Skipping "${arg}": the --include/--exclude rules leave it out`);
      return add(arg, st, {
        projectSpec,
        folder,
        name: name ?? classicBasename(arg),
        source: 'file',
        argIndex: i,
      });
    }
    if (st?.isDirectory()) {
      let own = name ?? classicBasename(arg);
      if (own === '..') own = basename(resolve(arg)); // classic would append a literal '..'
      const base = own === '.' ? folder : appendFolder(folder, own);
      const files = o.filesFrom?.length
        ? listedFiles(arg, o.filesFrom)
        : walk(arg, o.recursive, filter, warn);
      for (const f of files) {
        count();
        add(f.path, f.st, {
          projectSpec,
          folder: f.relDir ? appendFolder(base, f.relDir) : base,
          name: basename(f.path),
          source: 'directory',
          argIndex: i,
        });
      }
      return;
    }
    if (st) throw new UsageError(`Argument ${arg} is not a regular file or directory.`);
    if (lstatSync(arg, { throwIfNoEntry: false }) || !fg.isDynamicPattern(arg))
      throw new UsageError(`File "${arg}" does not exist`);
    const matches = globFiles(arg, filter);
    if (matches.length === 0) {
      throw new UsageError(
        `No files match "${arg}"; check the path, or quote the pattern so that ua expands it rather than the shell`,
      );
    }
    if (name !== undefined && matches.length > 1) {
      throw new UsageError(
        `A single --name ("${name}") was given for "${arg}", which matches ${matches.length} files`,
      );
    }
    for (const p of matches) {
      count();
      add(p, statSync(p), { projectSpec, folder, name: name ?? basename(p), source: 'glob', argIndex: i });
    }
  });
  return entries;
}

/** Matches of a glob argument that the filter accepts (paths relative to its static base), sorted. */
function globFiles(pattern: string, filter: FileFilter): string[] {
  const segments = pattern.split('/');
  const firstDynamic = segments.findIndex((s) => s !== '' && fg.isDynamicPattern(s)); // '' (absolute paths) makes fast-glob throw
  const baseSegs = segments.slice(0, firstDynamic);
  const base = baseSegs.length === 0 ? '' : baseSegs.join('/') || '/';
  const rest = segments.slice(firstDynamic).join('/');
  const rel = fg.sync(rest, {
    cwd: base || '.',
    onlyFiles: true,
    dot: false,
    followSymbolicLinks: true,
    unique: true,
  });
  return rel
    .filter((r) => filter.accepts(r))
    .sort()
    .map((r) => (base ? (base.endsWith('/') ? base + r : `${base}/${r}`) : r));
}

interface Walked {
  path: string;
  /** Subdirectory path below the argument, '' for its top level. */
  relDir: string;
  st: Stats;
}

/** Regular files under `dir`, sorted by name, descending only with `recursive`. */
function walk(dir: string, recursive: boolean, filter: FileFilter, warn: (m: string) => void): Walked[] {
  const out: Walked[] = [];
  const visited = new Map<string, string>(); // real directory → the path it was walked under
  const visit = (d: string, relDir: string) => {
    const real = canonicalPath(d);
    const earlier = visited.get(real);
    if (earlier !== undefined) {
      warn(`Not descending into "${d}": it is the same directory as "${earlier}" (symlink)`);
      return;
    }
    visited.set(real, d);
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry);
      const rel = relDir ? `${relDir}/${entry}` : entry;
      const st = statOrUndefined(p); // follows symlinks
      if (st?.isFile()) {
        if (filter.file(rel)) out.push({ path: p, relDir, st });
      } else if (st?.isDirectory()) {
        if (recursive && filter.descend(rel)) visit(p, rel);
      } else warn(`Unable to upload non regular file "${p}"`);
    }
  };
  visit(dir, '');
  return out;
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}
