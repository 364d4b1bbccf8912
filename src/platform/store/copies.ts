import type Database from 'better-sqlite3';
import {
  OBJECT_CLASSES,
  TABLE_OF,
  rowToObject,
  type DataObject,
  type ObjectClass,
  type ObjectRow,
} from './objects.js';

/**
 * One data object in several projects. On the platform a clone keeps the object's ID (§2) and
 * gets its own copy of the user metadata in the destination (name, folder, tags, properties,
 * visibility: dx-toolkit's test_clone renames one copy and the other keeps its name), while the
 * data itself is shared. Here each copy is a whole row of its class's table, keyed (id, project):
 * a clone is the source row again under another project, with its own folder.
 *
 * Why rows under a composite key rather than a separate membership table: findDataObjects
 * (store/find.ts), listFolder, the per-project counts and the removal code all select
 * `… FROM <table> WHERE project …` and return `project, id`, so a copy that is an ordinary row
 * is found, listed and removed by every one of them unchanged; a membership table would have
 * needed each of those queries rewritten as a join. The shared columns (state, size, md5, drive,
 * symlink path) are duplicated, which is sound because only closed objects are cloned and those
 * columns do not change after close (a symlink's later re-verification updates every copy, as
 * it should: the bytes are shared). Parts and bytes stay keyed by the ID alone, so copies share
 * them; removing a copy frees them only with the last one (removal.ts).
 *
 * The property index (object_properties) is keyed (object, key, value): the set of values any
 * copy holds, so findDataObjects' SQL finds every copy that may match and routes/find.ts checks
 * each row's own properties.
 */

/** The PK layout each object table and the property index get (checked at every open). */
const REKEYS: Array<{ table: string; pk: string[]; rewrite: (sql: string) => string | undefined }> = [
  ...OBJECT_CLASSES.map((c) => ({
    table: TABLE_OF[c],
    pk: ['id', 'project'],
    rewrite: (sql: string) => {
      const re = /\bid\s+TEXT\s+PRIMARY\s+KEY\b/i;
      const end = /\)\s*(WITHOUT\s+ROWID\s*)?$/i;
      if (!re.test(sql) || !end.test(sql)) return undefined;
      return sql.replace(re, 'id TEXT NOT NULL').replace(end, ',\n  PRIMARY KEY (id, project)\n)$1');
    },
  })),
  {
    table: 'object_properties',
    pk: ['object', 'key', 'value'],
    rewrite: (sql: string) => {
      const re = /PRIMARY\s+KEY\s*\(\s*object\s*,\s*key\s*\)/i;
      return re.test(sql) ? sql.replace(re, 'PRIMARY KEY (object, key, value)') : undefined;
    },
  },
];

function primaryKey(db: Database.Database, table: string): string[] {
  const cols = db.pragma(`table_info(${table})`) as Array<{ name: string; pk: number }>;
  return cols
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
}

/**
 * Gives the object tables and the property index the keys above, once per table (run by db.ts
 * after the schema parts, inside the migration transaction). The schema texts of files.ts,
 * objects.ts and executables.ts still create `id TEXT PRIMARY KEY` tables, so this rewrites the
 * stored CREATE statement rather than keeping a second copy of every column list: SQLite cannot
 * change a primary key in place, so the table is rebuilt (create, copy, drop, rename, indexes
 * again), the way SQLite's documentation describes for any such change. A schema this does not
 * recognise stops the server rather than being guessed at.
 */
export function keyObjectsPerCopy(db: Database.Database): void {
  for (const { table, pk, rewrite } of REKEYS) {
    const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as
      { sql: string } | undefined;
    if (!row || primaryKey(db, table).join() === pk.join()) continue;
    const rewritten = rewrite(row.sql);
    if (rewritten === undefined)
      throw new Error(`cannot re-key table ${table}: unexpected schema ${row.sql}`);
    const indexes = db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
      .all(table) as Array<{ sql: string }>;
    const tmp = `${table}__rekeyed`;
    db.exec(rewritten.replace(/^CREATE TABLE\s+"?\w+"?/i, `CREATE TABLE ${tmp}`));
    db.exec(`INSERT INTO ${tmp} SELECT * FROM ${table}`);
    db.exec(`DROP TABLE ${table}`);
    db.exec(`ALTER TABLE ${tmp} RENAME TO ${table}`);
    for (const { sql } of indexes) db.exec(sql);
  }
}

/** The copy of an object in one project (its metadata there), or undefined. */
export function objectCopy(
  db: Database.Database,
  klass: ObjectClass,
  id: string,
  project: string,
): DataObject | undefined {
  const r = db.prepare(`SELECT * FROM ${TABLE_OF[klass]} WHERE id = ? AND project = ?`).get(id, project) as
    ObjectRow | undefined;
  return r && rowToObject(r, klass);
}

/** Every project holding a copy, the first one made first. */
export function copyProjects(db: Database.Database, klass: ObjectClass, id: string): string[] {
  const rows = db
    .prepare(`SELECT project FROM ${TABLE_OF[klass]} WHERE id = ? ORDER BY rowid`)
    .all(id) as Array<{
    project: string;
  }>;
  return rows.map((r) => r.project);
}

/**
 * Copies the object's row in `from` into `to`, in `folder`. Every column is copied whatever the
 * table holds (so a column another module adds is kept too), except the project, the folder and
 * `modified`: the copy's metadata was written now (a choice; dx-toolkit's test only checks that
 * `created` is the same in both). Its properties are already in the index (same values).
 */
export function cloneCopy(
  db: Database.Database,
  klass: ObjectClass,
  id: string,
  from: string,
  to: string,
  folder: string,
  now: number,
): void {
  const table = TABLE_OF[klass];
  const cols = (db.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name);
  const own: Record<string, string> = { project: '@to', folder: '@folder', modified: '@now' };
  db.prepare(
    `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.map((c) => own[c] ?? c).join(', ')}
     FROM ${table} WHERE id = @id AND project = @from`,
  ).run({ id, from, to, folder, now });
}
