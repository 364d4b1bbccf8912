/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type RunningPlatform } from '../../src/platform/index.js';
import { FILES_SCHEMA } from '../../src/platform/store/files.js';
import { tempDir } from '../helpers/files.js';
import { callApi } from '../helpers/platform.js';

/**
 * A data dir from before clones: object tables keyed by `id` alone, the property index by
 * (object, key). On start they are re-keyed (store/copies.ts) with every row, index and value
 * kept, and cloning works.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(dataDir: string): Promise<RunningPlatform> {
  const p = await startPlatform({ dataDir, quiet: true, closingDelayMs: 0 });
  cleanups.push(() => p.stop());
  return p;
}

const pk = (db: Database.Database, table: string) =>
  (db.pragma(`table_info(${table})`) as Array<{ name: string; pk: number }>)
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);

it('re-keys an older data dir’s object tables and property index, keeping every row', async () => {
  const tmp = tempDir('ua-platform-clone-upgrade-');
  cleanups.push(tmp.cleanup);
  const first = await start(tmp.dir);
  const alice = first.admin.createUser('alice');
  const src = first.admin.createProject({ name: 'old', owner: alice });
  const dest = first.admin.createProject({ name: 'new', owner: alice });
  const { token } = first.admin.createToken({ user: alice });
  const call = async (p: RunningPlatform, route: string, input: Record<string, unknown>) => {
    const r = await callApi(p.url, route, input, token);
    expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
    return r.body as any;
  };
  const rec = (
    await call(first, 'record/new', { project: src, name: 'r', properties: { k: 'v' }, close: true })
  ).id;
  const file = (await call(first, 'file/new', { project: src, name: 'f', properties: { sig: 's' } })).id;
  await first.stop();

  // What an older server left: FILES_SCHEMA's own tables (id PRIMARY KEY; index on (object, key)).
  const raw = new Database(join(tmp.dir, 'platform.db'));
  raw.exec(`CREATE TEMP TABLE f AS SELECT * FROM files; CREATE TEMP TABLE r AS SELECT * FROM records;
    CREATE TEMP TABLE op AS SELECT * FROM object_properties;
    DROP TABLE files; DROP TABLE records; DROP TABLE object_properties;`);
  raw.exec(FILES_SCHEMA);
  raw.exec(`INSERT INTO files SELECT * FROM f; INSERT INTO records SELECT * FROM r;
    INSERT INTO object_properties SELECT * FROM op;`);
  expect(pk(raw, 'files')).toEqual(['id']);
  expect(pk(raw, 'object_properties')).toEqual(['object', 'key']);
  raw.close();

  const second = await start(tmp.dir);
  const db = new Database(join(tmp.dir, 'platform.db'), { readonly: true });
  cleanups.push(() => db.close());
  for (const t of ['files', 'records', 'applets', 'workflows']) expect(pk(db, t)).toEqual(['id', 'project']);
  expect(pk(db, 'object_properties')).toEqual(['object', 'key', 'value']);
  const indexes = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files'")
    .all();
  expect(indexes.map((i: any) => i.name)).toEqual(
    expect.arrayContaining(['files_in_folder', 'files_by_name']),
  );
  expect((await call(second, `${file}/describe`, {})).name).toBe('f');
  const found = await call(second, 'system/findDataObjects', { properties: { sig: 's' } });
  expect(found.results).toEqual([{ project: src, id: file }]);
  expect(await call(second, `${src}/clone`, { project: dest, objects: [rec] })).toEqual({
    id: src,
    project: dest,
    exists: [],
  });
  const both = await call(second, 'system/findDataObjects', { properties: { k: 'v' } });
  expect(both.results.map((x: any) => x.project).sort()).toEqual([src, dest].sort());
});
