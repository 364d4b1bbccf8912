import { invalidInput } from '../errors.js';
import { isPlainObject } from './input-checks.js';

/**
 * What a backslash escapes in a name glob: the glob's own `*` and `?`, the backslash itself
 * (D-Search), and the path-resolution specials `:` and `/` (S-PathRes), literal in a glob anyway.
 * dx sends a path's last component as a glob after turning only `\\` into `\` (dxpy's
 * unescape_name_str), so `dx describe 'a\*b'` arrives as `a\*b`, `dx describe 'a\:b'` as `a\:b`
 * and `dx describe 'back\\slash.txt'` as `back\slash.txt`.
 */
const GLOB_ESCAPABLE = new Set(['\\', '*', '?', ':', '/']);

/**
 * A findDataObjects name glob (D-Search): `*` any run of characters, `?` exactly one, no `[]`.
 * A backslash before one of GLOB_ESCAPABLE makes it literal; before any other character, or at
 * the end, it is a backslash itself, so the `back\slash.txt` dx sends finds the stored
 * `back\slash.txt`. Which characters the platform lets a backslash escape is unconfirmed: the
 * reference names only `*`, `?` and `\`, so this is an emulator choice.
 */
export function globToRegExp(glob: string): RegExp {
  let src = '';
  const chars = [...glob]; // code points: `?` matches one character, not half a surrogate pair
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\' && i + 1 < chars.length && GLOB_ESCAPABLE.has(chars[i + 1])) src += escapeRe(chars[++i]);
    else if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else src += escapeRe(c);
  }
  return new RegExp(`^${src}$`, 'su');
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
