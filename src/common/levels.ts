/** Project access levels, weakest first. NONE means no access at all. */
export const LEVELS = ['NONE', 'VIEW', 'UPLOAD', 'CONTRIBUTE', 'ADMINISTER'] as const;
export type Level = (typeof LEVELS)[number];
export type GrantLevel = Exclude<Level, 'NONE'>;

export function isLevel(s: unknown): s is Level {
  return typeof s === 'string' && (LEVELS as readonly string[]).includes(s);
}

export function isGrantLevel(s: unknown): s is GrantLevel {
  return isLevel(s) && s !== 'NONE';
}

export function levelRank(l: Level): number {
  return LEVELS.indexOf(l);
}

export function atLeast(have: Level, need: Level): boolean {
  return levelRank(have) >= levelRank(need);
}

export function minLevel(a: Level, b: Level): Level {
  return levelRank(a) <= levelRank(b) ? a : b;
}
