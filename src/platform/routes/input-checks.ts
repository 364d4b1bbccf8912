import { isGrantLevel, type GrantLevel } from '../../common/levels.js';
import { invalidInput } from '../errors.js';

/** Small typed readers for route inputs; each throws InvalidInput naming the field. */

export function optString(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidInput(`${key} must be a string`);
  return v;
}

export function reqString(input: Record<string, unknown>, key: string): string {
  const v = optString(input, key);
  if (v === undefined) throw invalidInput(`${key} is required`);
  return v;
}

export function optBool(input: Record<string, unknown>, key: string): boolean | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalidInput(`${key} must be a boolean`);
  return v;
}

export function optStringArray(input: Record<string, unknown>, key: string): string[] | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw invalidInput(`${key} must be an array of strings`);
  }
  return v as string[];
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function optStringMap(
  input: Record<string, unknown>,
  key: string,
): Record<string, string> | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (!isPlainObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw invalidInput(`${key} must be a mapping of strings to strings`);
  }
  return v as Record<string, string>;
}

export function reqGrantLevel(input: Record<string, unknown>, key: string): GrantLevel {
  const v = input[key];
  if (!isGrantLevel(v)) throw invalidInput(`${key} must be one of VIEW, UPLOAD, CONTRIBUTE, ADMINISTER`);
  return v;
}

export function optInt(
  input: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidInput(`${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}
