import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/platform/errors.js';
import { totalChanges } from '../../src/platform/store/changes.js';
import { openDb, syncWal, tx, type Db } from '../../src/platform/store/db.js';
import { ensureFolder, folderExists, normaliseFolder } from '../../src/platform/store/folders.js';
import { canonicalJson, NONCE_WINDOW_MS, withNonce } from '../../src/platform/store/nonces.js';
import { makeAdmin } from '../../src/platform/admin.js';
import { storeOf } from '../../src/platform/store/store.js';
import { tempDir } from '../helpers/files.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function freshDb(): { db: Db; dir: string } {
  const tmp = tempDir('ua-platform-store-');
  const db = openDb(tmp.dir);
  cleanups.push(tmp.cleanup, () => db.close());
  return { db, dir: tmp.dir };
}

function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('openDb', () => {
  it('uses WAL, foreign keys and a busy timeout, and records the schema version', () => {
    const { db } = freshDb();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
  });

  it('applies the files schema to a DB created before that schema existed', () => {
    const tmp = tempDir('ua-platform-store-');
    cleanups.push(tmp.cleanup);
    const first = openDb(tmp.dir);
    // Simulate a DB made when FILES_SCHEMA was still '': no files table, no record of it.
    first.exec(
      "DROP TABLE IF EXISTS parts; DROP TABLE IF EXISTS files; DELETE FROM schema_parts WHERE name = 'files'",
    );
    first.close();
    const raw = new Database(join(tmp.dir, 'platform.db'));
    expect(raw.prepare("SELECT 1 FROM sqlite_master WHERE name = 'files'").get()).toBeUndefined();
    raw.close();
    const again = openDb(tmp.dir);
    cleanups.push(() => again.close());
    expect(again.prepare("SELECT 1 FROM sqlite_master WHERE name = 'files'").get()).toBeDefined();
  });
});

describe('statement cache and group commit', () => {
  it('hands out one prepared statement per SQL text, and a fresh one while that is being iterated', () => {
    const { db } = freshDb();
    const sql = 'SELECT id FROM users ORDER BY id';
    expect(db.prepare(sql)).toBe(db.prepare(sql));
    db.prepare('INSERT INTO users (id, handle, created) VALUES (?, ?, 0)').run('user-a', 'a');
    db.prepare('INSERT INTO users (id, handle, created) VALUES (?, ?, 0)').run('user-b', 'b');
    const pairs: string[] = [];
    for (const outer of db.prepare(sql).iterate() as Iterable<{ id: string }>) {
      for (const inner of db.prepare(sql).iterate() as Iterable<{ id: string }>)
        pairs.push(`${outer.id}:${inner.id}`);
    }
    expect(pairs).toEqual(['user-a:user-a', 'user-a:user-b', 'user-b:user-a', 'user-b:user-b']);
  });

  it('syncs commits itself without group commit, and leaves that to syncWal with it', async () => {
    const plain = freshDb().db;
    expect(plain.pragma('synchronous', { simple: true })).toBe(2); // FULL: the admin CLI
    await syncWal(plain); // nothing to do
    const tmp = tempDir('ua-platform-store-');
    const db = openDb(tmp.dir, { groupCommit: true });
    cleanups.push(tmp.cleanup, () => db.close());
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL: syncWal before acknowledging
    const before = totalChanges(db);
    db.prepare('INSERT INTO users (id, handle, created) VALUES (?, ?, 0)').run('user-c', 'c');
    expect(totalChanges(db)).toBe(before + 1);
    await Promise.all([syncWal(db), syncWal(db), syncWal(db)]);
  });
});

describe('withNonce', () => {
  it('runs create once per nonce and replays the stored response for the same input', () => {
    const { db } = freshDb();
    let runs = 0;
    const create = () => ({ id: `obj-${++runs}` });
    const input = { nonce: 'n1', b: 1, a: { y: 2, x: 1 } };
    expect(withNonce(db, 'user-a', 'file/new', input, create)).toEqual({ id: 'obj-1' });
    // Key order does not matter.
    expect(withNonce(db, 'user-a', 'file/new', { a: { x: 1, y: 2 }, b: 1, nonce: 'n1' }, create)).toEqual({
      id: 'obj-1',
    });
    expect(runs).toBe(1);
    // Another user, route or nonce is another request.
    withNonce(db, 'user-b', 'file/new', input, create);
    withNonce(db, 'user-a', 'record/new', input, create);
    withNonce(db, 'user-a', 'file/new', { ...input, nonce: 'n2' }, create);
    expect(runs).toBe(4);
    // No nonce: always runs.
    withNonce(db, 'user-a', 'file/new', { b: 1 }, create);
    withNonce(db, 'user-a', 'file/new', { b: 1 }, create);
    expect(runs).toBe(6);
  });

  it('refuses the same nonce with a different input, and bad nonces', () => {
    const { db } = freshDb();
    withNonce(db, 'user-a', 'file/new', { nonce: 'n', name: 'x' }, () => ({ id: 1 }));
    expect(
      apiErrorOf(() => withNonce(db, 'user-a', 'file/new', { nonce: 'n', name: 'y' }, () => ({}))).type,
    ).toBe('InvalidInput');
    expect(apiErrorOf(() => withNonce(db, 'u', 'r', { nonce: 5 }, () => ({}))).type).toBe('InvalidInput');
    const long = 'é'.repeat(65); // 130 bytes in UTF-8, 65 characters
    expect(apiErrorOf(() => withNonce(db, 'u', 'r', { nonce: long }, () => ({}))).type).toBe('InvalidInput');
    expect(withNonce(db, 'u', 'r', { nonce: 'é'.repeat(64) }, () => 'ok')).toBe('ok');
  });

  it('forgets a nonce after the replay window', () => {
    const { db } = freshDb();
    let runs = 0;
    const t0 = 1_000_000;
    withNonce(db, 'u', 'r', { nonce: 'n' }, () => ++runs, t0);
    withNonce(db, 'u', 'r', { nonce: 'n' }, () => ++runs, t0 + NONCE_WINDOW_MS - 1);
    expect(runs).toBe(1);
    expect(withNonce(db, 'u', 'r', { nonce: 'n' }, () => ++runs, t0 + NONCE_WINDOW_MS)).toBe(2);
  });

  it('stores nothing when create throws, and rolls back what create wrote', () => {
    const { db } = freshDb();
    const admin = makeAdmin(storeOf(db));
    expect(() =>
      withNonce(db, 'u', 'r', { nonce: 'n' }, () => {
        admin.createUser('ghost');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(db.prepare('SELECT count(*) AS n FROM nonces').get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT count(*) AS n FROM users WHERE id = 'user-ghost'").get()).toEqual({ n: 0 });
  });

  it('canonicalJson sorts keys at every depth', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });
});

describe('folders', () => {
  it('normalises paths and refuses bad ones', () => {
    expect(normaliseFolder('/')).toBe('/');
    expect(normaliseFolder('//a//b/')).toBe('/a/b');
    for (const bad of ['', 'a', '/a/..', '/./a', '/a\nb', '/' + 'x'.repeat(2049), '/a'.repeat(129), null]) {
      expect(apiErrorOf(() => normaliseFolder(bad)).type, String(bad).slice(0, 20)).toBe('InvalidInput');
    }
    expect(normaliseFolder('/' + 'é'.repeat(2048))).toHaveLength(2049);
  });

  it('ensureFolder creates a child of an existing folder, and ancestors only with parents', () => {
    const { db } = freshDb();
    const admin = makeAdmin(storeOf(db));
    const p = admin.createProject({ name: 'p', owner: admin.createUser('o') });
    expect(tx(db, () => ensureFolder(db, p, '/a/', false))).toBe('/a');
    expect(tx(db, () => ensureFolder(db, p, '/a', false))).toBe('/a'); // existing: fine
    const err = apiErrorOf(() => ensureFolder(db, p, '/x/y', false));
    expect([err.type, err.message]).toEqual(['ResourceNotFound', `The folder /x could not be found in ${p}`]);
    expect(folderExists(db, p, '/x')).toBe(false);
    expect(tx(db, () => ensureFolder(db, p, '/x/y/z', true))).toBe('/x/y/z');
    expect(['/x', '/x/y', '/x/y/z'].every((f) => folderExists(db, p, f))).toBe(true);
  });
});
