import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultStateDir, Journal } from '../../../src/state/journal.js';
import { tempDir } from '../../helpers/files.js';

const key = { signature: '100 1700000000 0 5242880 /data/a.bin', destination: 'aws s3://b/k' };
let tmp: ReturnType<typeof tempDir>;
afterEach(() => tmp?.cleanup());

describe('Journal', () => {
  it('records an upload and its parts, survives reopening, and forgets on remove', () => {
    tmp = tempDir();
    const j = new Journal(tmp.dir);
    j.begin(key, 'upload-1');
    j.addPart(key, 2, { size: 10, md5: 'b'.repeat(32), etag: '"e2"' });
    j.addPart(key, 1, { size: 11, md5: 'a'.repeat(32), etag: '"e1"' });
    j.addPart(key, 2, { size: 12, md5: 'c'.repeat(32), etag: '"e2b"' }); // a re-sent part replaces the record
    j.close();
    const again = new Journal(tmp.dir);
    const got = again.get(key)!;
    expect(got.uploadId).toBe('upload-1');
    expect([...got.parts]).toEqual([
      [1, { size: 11, md5: 'a'.repeat(32), etag: '"e1"' }],
      [2, { size: 12, md5: 'c'.repeat(32), etag: '"e2b"' }],
    ]);
    expect(got.completedMd5).toBeUndefined();
    expect(again.get({ ...key, destination: 'aws s3://b/other' })).toBeUndefined();
    again.markCompleted(key, 'f'.repeat(32));
    expect(again.get(key)!.completedMd5).toBe('f'.repeat(32));
    again.remove(key);
    expect(again.get(key)).toBeUndefined();
    expect(again.count()).toBe(0);
    again.close();
  });

  it("keeps a part's S3 CRC32, and opens a journal written before parts had one", () => {
    tmp = tempDir();
    // The schema of the first journals: parts without a crc32 column.
    const old = new Database(join(tmp.dir, 'direct-uploads.sqlite'));
    old.exec(`CREATE TABLE uploads (signature TEXT NOT NULL, destination TEXT NOT NULL, upload_id TEXT NOT NULL,
        completed_md5 TEXT, created_ms INTEGER NOT NULL, touched_ms INTEGER NOT NULL, PRIMARY KEY (signature, destination));
      CREATE TABLE parts (signature TEXT NOT NULL, destination TEXT NOT NULL, idx INTEGER NOT NULL,
        size INTEGER NOT NULL, md5 TEXT NOT NULL, etag TEXT NOT NULL, PRIMARY KEY (signature, destination, idx));`);
    const now = Date.now();
    old
      .prepare('INSERT INTO uploads VALUES (?, ?, ?, NULL, ?, ?)')
      .run(key.signature, key.destination, 'u-old', now, now);
    old
      .prepare('INSERT INTO parts VALUES (?, ?, 1, 10, ?, ?)')
      .run(key.signature, key.destination, 'a'.repeat(32), '"e1"');
    old.close();
    const j = new Journal(tmp.dir);
    j.addPart(key, 2, { size: 10, md5: '', crc32: 'AAAAAQ==', etag: '"e2"' });
    j.close();
    const again = new Journal(tmp.dir);
    expect([...again.get(key)!.parts]).toEqual([
      [1, { size: 10, md5: 'a'.repeat(32), etag: '"e1"' }],
      [2, { size: 10, md5: '', crc32: 'AAAAAQ==', etag: '"e2"' }],
    ]);
    again.close();
  });

  it('begin() restarts an upload: earlier parts and completion are forgotten', () => {
    tmp = tempDir();
    const j = new Journal(tmp.dir);
    j.begin(key, 'u1');
    j.addPart(key, 1, { size: 1, md5: 'a'.repeat(32), etag: 'x' });
    j.markCompleted(key, 'f'.repeat(32));
    j.begin(key, 'u2');
    expect(j.get(key)).toMatchObject({ uploadId: 'u2', parts: new Map() });
    expect(j.get(key)!.completedMd5).toBeUndefined();
    j.dropPart(key, 1);
    j.close();
  });

  it('drops uploads untouched for longer than the stale limit when opened', () => {
    tmp = tempDir();
    let now = 1_000_000;
    const j = new Journal(tmp.dir, { now: () => now });
    j.begin(key, 'old');
    j.addPart(key, 1, { size: 1, md5: 'a'.repeat(32), etag: 'x' });
    j.begin({ ...key, destination: 'fresh' }, 'new');
    j.close();
    now += 1000;
    const reopened = new Journal(tmp.dir, { now: () => now, staleAfterMs: 500 });
    expect(reopened.count()).toBe(0);
    reopened.close();
  });

  it('keeps its files private (0600) in a 0700 directory', () => {
    tmp = tempDir();
    const dir = join(tmp.dir, 'state', 'ua');
    const j = new Journal(dir);
    j.begin(key, 'u');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of [j.path, `${j.path}-wal`]) expect(statSync(f).mode & 0o777).toBe(0o600);
    j.close();
  });

  it('state dir: --state-dir, then UA_STATE_DIR, then XDG_CACHE_HOME/ua, then ~/.cache/ua', () => {
    expect(defaultStateDir({ UA_STATE_DIR: '/s' }, '/flag')).toBe('/flag');
    expect(defaultStateDir({ UA_STATE_DIR: '/s', XDG_CACHE_HOME: '/x' })).toBe('/s');
    expect(defaultStateDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/ua');
    expect(defaultStateDir({})).toMatch(/\.cache\/ua$/);
  });
});
