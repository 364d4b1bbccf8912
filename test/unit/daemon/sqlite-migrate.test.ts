import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB_FILE, openDaemonDb } from '../../../src/daemon/state/db.js';
import { MIGRATIONS } from '../../../src/daemon/state/schema.js';
import { SqliteSql } from '../../../src/daemon/state/sql.js';
import { DaemonStore } from '../../../src/daemon/state/store.js';
import { tempDir } from '../../helpers/files.js';

describe('the SQLite state of the previous version', () => {
  it('is migrated in place: an upload it had in flight is due again on this host', async () => {
    const dir = tempDir();
    try {
      const old = new Database(join(dir.dir, DB_FILE));
      old.exec(MIGRATIONS[0]);
      old.pragma('user_version = 1');
      old.exec(`INSERT INTO runs (dir, root, name, profile, run_id, discovered_at, started_at, last_change_at)
        VALUES ('/r/R', '/r', 'R', 'generic', 'R', 1, 1, 1)`);
      old.exec(`INSERT INTO files (run, path, size, mtime_ms, dev, ino, ctime_ms, seen_at, state)
        VALUES (1, 'a.bin', 3, 1.5, 1, 2, 1, 1, 'uploading')`);
      old.close();
      const db = openDaemonDb(dir.dir);
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const store = new DaemonStore(new SqliteSql(db), { host: 'h', leaseMs: 1000 });
      // An old row has no claim: its lease (0) has lapsed, so it is due again at the first tick.
      expect(await store.expireLeases(Date.now())).toBe(1);
      await store.seesRun(1);
      const [row] = await store.claim(Date.now(), 5);
      expect([row.path, row.state, row.claimed_by, row.claim]).toEqual(['a.bin', 'uploading', 'h', 1]);
      await store.q.close();
    } finally {
      dir.cleanup();
    }
  });
});
