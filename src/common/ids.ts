import { randomBytes } from 'node:crypto';

/** The platform's ID alphabet: 32 case-sensitive symbols; an ID is `class-` + 24 of them. */
export const ID_ALPHABET = '0123456789BFGJKPQVXYZbfgjkpqvxyz';
export const ID_BODY_LENGTH = 24;

const ID_RE = /^([a-z]+)-([0-9BFGJKPQVXYZbfgjkpqvxyz]{24})$/;

export function newId(klass: string): string {
  const bytes = randomBytes(ID_BODY_LENGTH);
  let body = '';
  // 256 is a multiple of 32, so `b & 31` is uniform over the alphabet.
  for (const b of bytes) body += ID_ALPHABET[b & 31];
  return `${klass}-${body}`;
}

/** The class of a well-formed entity ID (`file-…` → `file`), or undefined if it is not one. */
export function idClass(s: string): string | undefined {
  return ID_RE.exec(s)?.[1];
}

export function isId(s: string, klass?: string): boolean {
  const k = idClass(s);
  return k !== undefined && (klass === undefined || k === klass);
}
