import type { Store } from '../store/store.js';
import type { Level } from '../../common/levels.js';
import { invalidInput } from '../errors.js';
import { type ProjectRecord } from '../store/projects.js';
import { isPlainObject } from './input-checks.js';

/** Part-size limits per cloud (platform-api.md §5.3; values from dx-toolkit's test fixture). */
export const AWS_UPLOAD_PARAMETERS = {
  minimumPartSize: 5_242_880,
  maximumPartSize: 5_368_709_120,
  maximumFileSize: 5_497_558_138_880,
  maximumNumParts: 10_000,
  emptyLastPartAllowed: true,
};
export const AZURE_UPLOAD_PARAMETERS = {
  minimumPartSize: 1,
  maximumPartSize: 4_194_304,
  maximumFileSize: 209_715_200_000,
  maximumNumParts: 50_000,
  emptyLastPartAllowed: false,
};

export function fileUploadParameters(region: string) {
  return region.startsWith('azure:') ? AZURE_UPLOAD_PARAMETERS : AWS_UPLOAD_PARAMETERS;
}

/** Fields only sent when asked for, by `fields` or by a legacy flag of the same name. */
const ON_REQUEST = new Set(['fileUploadParameters', 'membershipLevel']);

/**
 * `/project-xxxx/describe` output for a caller with `level` (already checked ≥ VIEW). Input is either
 * `{fields: {name: true, …}}` (only those fields) or the legacy form (defaults plus flags such as
 * `fileUploadParameters: true`). `permissions` is only ever shown to ADMINISTER.
 *
 * `membershipLevel` (on request only; our addition, not in the reference): the calling user's own
 * membership level, before the token's scope caps it (`level` is the capped, effective one). It
 * lets a client tell "the user has VIEW" from "the user has UPLOAD but this token is scoped lower"
 * (issue 4). It is only shown to a token that can already see the project, so a scoped token
 * learns nothing about projects outside its scope.
 */
export function describeProject(
  store: Store,
  p: ProjectRecord,
  level: Level,
  input: Record<string, unknown>,
  membership?: Level,
) {
  const fields = input.fields;
  if (fields !== undefined && !isPlainObject(fields))
    throw invalidInput('fields must be a mapping of names to booleans');
  const wanted = (name: string): boolean =>
    fields !== undefined ? fields[name] === true : !ON_REQUEST.has(name) || input[name] === true;

  const out: Record<string, unknown> = {};
  const add = (name: string, value: () => unknown) => {
    if (!wanted(name)) return;
    const v = value();
    if (v !== undefined) out[name] = v;
  };
  add('id', () => p.id);
  add('class', () => 'project');
  add('name', () => p.name);
  add('summary', () => p.summary);
  add('description', () => p.description);
  add('level', () => level);
  add('region', () => p.region);
  add('billTo', () => p.billTo);
  add('created', () => p.created);
  add('modified', () => p.modified);
  add('createdBy', () => ({ user: p.createdBy }));
  add('folders', () => store.allFolders(p.id));
  add('objects', () => store.countFiles(p.id));
  add('tags', () => p.tags);
  add('properties', () => p.properties);
  add('protected', () => p.protected);
  add('restricted', () => p.restricted);
  add('externalUploadRestricted', () => p.externalUploadRestricted);
  add('containsPHI', () => false);
  add('dataUsage', () => 0);
  add('defaultSymlink', () => p.defaultSymlink ?? (fields !== undefined ? null : undefined));
  add('permissions', () => (level === 'ADMINISTER' ? store.listMembers(p.id) : undefined));
  add('fileUploadParameters', () => fileUploadParameters(p.region));
  add('membershipLevel', () => membership);
  return out;
}
