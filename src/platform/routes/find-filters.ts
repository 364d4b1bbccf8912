import { invalidInput } from '../errors.js';
import { isPlainObject } from './input-checks.js';

/**
 * findDataObjects filters checked row by row (D-Search): glob supports `*` and `?` only, and a
 * backslash makes the next character literal (`\*`, `\?`, `\\`).
 */
export function globToRegExp(glob: string): RegExp {
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\' && i + 1 < glob.length) src += escapeRe(glob[++i]);
    else if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else src += escapeRe(c);
  }
  return new RegExp(`^${src}$`, 's');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** `name`: exact string (also filtered in SQL), `{glob}` or `{regexp, flags?}`. */
export function nameMatcher(name: unknown): (s: string) => boolean {
  if (name === undefined || typeof name === 'string') return () => true;
  if (isPlainObject(name) && typeof name.glob === 'string') {
    const re = globToRegExp(name.glob);
    return (s) => re.test(s);
  }
  if (isPlainObject(name) && typeof name.regexp === 'string') {
    let re: RegExp;
    try {
      re = new RegExp(name.regexp, typeof name.flags === 'string' ? name.flags : '');
    } catch {
      throw invalidInput('name.regexp is not a valid regular expression');
    }
    return (s) => re.test(s);
  }
  throw invalidInput('name must be a string, {"glob": …} or {"regexp": …}');
}

/** `tags` / `type`: a string, `{$and: [...]}` or `{$or: [...]}` (an array means $and). */
export function listMatcher(v: unknown, field: string): (have: string[]) => boolean {
  if (v === undefined) return () => true;
  if (typeof v === 'string') return (have) => have.includes(v);
  const all = Array.isArray(v) ? v : isPlainObject(v) ? v.$and : undefined;
  const any = isPlainObject(v) ? v.$or : undefined;
  const list = (all ?? any) as unknown;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw invalidInput(`${field} must be a string, {"$and": [...]} or {"$or": [...]}`);
  }
  return all !== undefined
    ? (have) => list.every((t) => have.includes(t as string))
    : (have) => list.some((t) => have.includes(t as string));
}

/** `{after?, before?}` in ms since the epoch. */
export function readRange(v: unknown, field: string): { after?: number; before?: number } | undefined {
  if (v === undefined) return undefined;
  if (!isPlainObject(v)) throw invalidInput(`${field} must be {"after"?: ms, "before"?: ms}`);
  const out: { after?: number; before?: number } = {};
  for (const k of ['after', 'before'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'number') throw invalidInput(`${field}.${k} must be a number (ms since the epoch)`);
    out[k] = v[k];
  }
  return out;
}
