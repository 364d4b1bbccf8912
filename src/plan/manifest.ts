/**
 * The `--manifest` file (ua-behavior §1.5): `{ "<project>": [ {"path", "folder", "name"}, … ], … }`.
 * Classic error texts, with the typos fixed ("manifest", "occurred", closing quote).
 */
import { UsageError } from '../errors.js';
import { readFileSync } from 'node:fs';

export interface ManifestEntry {
  /** The key: a project name or ID. */
  project: string;
  path: string;
  folder: string;
  name: string;
}

/** Entries with projects in sorted key order (the classic JSON library kept keys in a std::map). */
export function readManifest(file: string): ManifestEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`file('${file}') cannot be opened for reading...`);
  }
  return parseManifest(text, file);
}

export function parseManifest(text: string, file: string): ManifestEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `An error occurred while trying to parse the manifest file '${file}' (${(err as Error).message})`,
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UsageError(`The manifest file '${file}' does not contain a valid JSON hash.`);
  }
  const out: ManifestEntry[] = [];
  const byProject = json as Record<string, unknown>;
  for (const project of Object.keys(byProject).sort()) {
    const list = byProject[project];
    if (!Array.isArray(list))
      throw new UsageError(
        `The manifest file '${file}' does not contain a valid JSON hash value for project '${project}'.`,
      );
    list.forEach((e: unknown, i) => {
      const where = `The manifest file '${file}' contains an invalid entry for project '${project}' at index '${i}'`;
      if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new UsageError(`${where}.`);
      const rec = e as Record<string, unknown>;
      for (const k of ['path', 'folder', 'name']) {
        if (!(k in rec)) throw new UsageError(`${where} - missing key '${k}'.`);
        if (typeof rec[k] !== 'string') throw new UsageError(`${where} - key '${k}' must be a string.`);
      }
      out.push({ project, path: rec.path as string, folder: rec.folder as string, name: rec.name as string });
    });
  }
  return out;
}
