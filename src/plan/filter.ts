/**
 * Which files of a directory walk, a glob or the file arguments are uploaded: `--include`,
 * `--exclude` and `--exclude-from`, with rclone's filtering rules (its docs, "Filtering, includes and
 * excludes"), so that a filter written for `rclone copy` selects the same files here:
 * - the rules are tried in a fixed order, whatever the order on the command line: every `--include`,
 *   then every `--exclude`, then the lines of each `--exclude-from` file; the first rule that matches
 *   decides, and a file no rule matches is uploaded;
 * - any `--include` adds an implied `- /**` at the end: everything not included is excluded;
 * - a pattern starting with `/` is anchored at the argument's base (the directory given, a glob's
 *   static part, a file's own directory); any other pattern matches the end of the path on whole
 *   path elements (`b.txt` matches `b.txt` and `sub/b.txt`, not `ab.txt`);
 * - `*` and `?` never cross a `/`, `**` does (`/*.fq` is the top level only, `/**.fq` any depth);
 *   `[a-z]`, `[!…]`, `{a,b}` (nested), `\c` and `{{regexp}}` as in rclone; case-sensitive;
 * - a pattern ending in `/` matches directories only.
 * ua's own addition, kept from its `--exclude`: a directory whose path an exclude rule matches
 * before any include rule is not descended into (rclone needs `dir/**` to exclude a directory's
 * files); with any `--include` every directory is walked, as a later file may be included.
 */
import { UsageError } from '../errors.js';
import { readList } from './lists.js';

export interface FilterOptions {
  include?: readonly string[];
  exclude?: readonly string[];
  excludeFrom?: readonly string[];
}

/** The file-selection options of the command line (cli/args.ts), part of UaOptions. */
export interface SelectionOptions {
  /** `--include` globs, in command-line order. */
  include?: string[];
  /** `--exclude-from` list files, in command-line order. */
  excludeFrom?: string[];
  /** `--files-from` list files, read left to right. */
  filesFrom?: string[];
  /** `--dry-run`: print the plan (cli/dry-run.ts) and create nothing. */
  dryRun?: boolean;
}

interface Rule {
  include: boolean;
  re: RegExp;
  dirOnly: boolean;
}

/** The rules of one command line; `file` and `descend` take paths relative to the argument's base. */
export class FileFilter {
  readonly #rules: Rule[];
  constructor(rules: Rule[]) {
    this.#rules = rules;
  }

  get active(): boolean {
    return this.#rules.length > 0;
  }

  /** Whether a file at `rel` (forward slashes, no leading `/`) is uploaded. */
  file(rel: string): boolean {
    for (const r of this.#rules) if (!r.dirOnly && r.re.test(rel)) return r.include;
    return true;
  }

  /** Whether a path found without a walk (a glob's match) is uploaded: its directories, then itself. */
  accepts(rel: string): boolean {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (!this.descend(parts.slice(0, i).join('/'))) return false;
    return this.file(rel);
  }

  /** Whether a directory walk goes into the directory at `rel`. */
  descend(rel: string): boolean {
    for (const r of this.#rules) {
      if (r.include) return true; // it, or an implied `- /**` after it, may let a file below in
      if (r.re.test(rel)) return false;
    }
    return true;
  }
}

/** The filter of the options, reading each `--exclude-from` file; a bad pattern or list is a UsageError. */
export function buildFilter(o: FilterOptions): FileFilter {
  const rules: Rule[] = [];
  const add = (include: boolean, pattern: string, from: string) =>
    rules.push({ include, ...compileGlob(pattern, from) });
  for (const p of o.include ?? []) add(true, p, '--include');
  for (const p of o.exclude ?? []) add(false, p, '--exclude');
  for (const file of o.excludeFrom ?? [])
    for (const p of readList(file, '--exclude-from')) add(false, p, `--exclude-from ${file}`);
  if (o.include?.length) rules.push({ include: false, re: /^/, dirOnly: false });
  return new FileFilter(rules);
}

/** rclone's ASCII classes (Go regexp), which JavaScript's RegExp lacks, as ranges. */
const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

/** An rclone glob → a RegExp over a relative path (see the module comment), and whether it is a directory rule. */
export function compileGlob(glob: string, from = 'pattern'): { re: RegExp; dirOnly: boolean } {
  const bad = (why: string) =>
    new UsageError(`${from} "${glob}": ${why}; escape it with \\ to match it literally`);
  const anchored = glob.startsWith('/');
  let g = anchored ? glob.slice(1) : glob;
  const dirOnly = g.endsWith('/') && g.length > 0;
  if (dirOnly) g = g.slice(0, -1);
  let out = '';
  let braces = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '\\') {
      if (i + 1 >= g.length) throw bad('ends with a lone \\');
      out += g[++i].replace(REGEX_SPECIAL, '\\$&');
    } else if (c === '*') {
      if (g[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = classEnd(g, i);
      if (end < 0) throw bad('has an unclosed [');
      let body = g.slice(i + 1, end).replace(/\[:([a-z]+):\]/g, (_, name: string) => {
        const cls = POSIX_CLASSES[name];
        if (!cls) throw bad(`has an unknown class [:${name}:]`);
        return cls;
      });
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      body = body.replace(/^(\^?)\]/, '$1\\]'); // a leading ] is literal in a glob, not in a RegExp
      out += `[${body}]`;
      i = end;
    } else if (c === '{' && g[i + 1] === '{') {
      const end = g.indexOf('}}', i + 2);
      if (end < 0) throw bad('has an unclosed {{');
      out += `(${g.slice(i + 2, end)})`;
      i = end + 1;
    } else if (c === '{') {
      out += '(?:';
      braces++;
    } else if (c === '}' && braces > 0) {
      out += ')';
      braces--;
    } else if (c === ',' && braces > 0) out += '|';
    else out += c.replace(REGEX_SPECIAL, '\\$&');
  }
  if (braces > 0) throw bad('has an unclosed {');
  try {
    return { re: new RegExp(`${anchored ? '^' : '(?:^|/)'}(?:${out})$`), dirOnly };
  } catch (err) {
    throw bad(`is not a valid pattern (${(err as Error).message})`);
  }
}

/** The index of the `]` closing the class opened at `start`, or −1 (a `]` first in the class is literal). */
function classEnd(g: string, start: number): number {
  let i = start + 1;
  if (g[i] === '!' || g[i] === '^') i++;
  if (g[i] === ']') i++;
  for (; i < g.length; i++) {
    if (g[i] === '\\') i++;
    else if (g[i] === '[' && g[i + 1] === ':') {
      const close = g.indexOf(':]', i + 2);
      if (close > 0) i = close + 1;
    } else if (g[i] === ']') return i;
  }
  return -1;
}
