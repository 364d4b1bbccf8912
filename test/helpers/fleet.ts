/**
 * Fleet-test helpers: run folders on disk, a cuttable TCP path to the platform (a host partitioned
 * from the platform but not from the database), and the exactly-once check every fleet test ends
 * with: one closed, byte-exact object per local file, one closed sentinel per run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { writeRandomFile } from './files.js';
import { objectsUnder } from './daemon.js';
import type { TestPlatform } from './platform.js';
import { downloadFile } from './remote.js';

/** A MiSeq-style run (complete on RTAComplete.txt, written last by the caller) with `n` CBCLs. */
export function writeRun(
  root: string,
  name: string,
  n: number,
  bytes: number,
): { dir: string; paths: string[] } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'RunInfo.xml'),
    `<?xml version="1.0"?>\n<RunInfo><Run Id="${name}" Number="1"><Flowcell>F1</Flowcell></Run></RunInfo>\n`,
  );
  writeFileSync(
    join(dir, 'RunParameters.xml'),
    '<RunParameters><ApplicationName>MiSeq Control Software</ApplicationName></RunParameters>\n',
  );
  const paths = ['RunInfo.xml', 'RunParameters.xml'];
  for (let i = 0; i < n; i++) {
    const p = `Data/Intensities/BaseCalls/L001/C${i + 1}.1/L001_1.cbcl`;
    writeRandomFile(join(dir, p), bytes);
    paths.push(p);
  }
  return { dir, paths };
}

export function completeRun(dir: string, paths: string[]): void {
  writeFileSync(join(dir, 'RTAComplete.txt'), 'done\n');
  paths.push('RTAComplete.txt');
}

/**
 * Every local file of the run has exactly one remote object, closed and byte-exact, and the run has
 * exactly one closed sentinel record. Returns the sentinel.
 */
export async function expectExactlyOnce(
  tp: TestPlatform,
  folder: string,
  dir: string,
  paths: string[],
): Promise<{ id: string; details: Record<string, unknown> }> {
  const objects = await objectsUnder(tp, folder);
  const byPath = new Map<string, typeof objects>();
  for (const o of objects) byPath.set(o.path, [...(byPath.get(o.path) ?? []), o]);
  expect([...byPath.keys()].sort()).toEqual(paths.map((p) => `${folder}/${p}`).sort());
  for (const p of paths) {
    const hits = byPath.get(`${folder}/${p}`)!;
    expect(hits, p).toHaveLength(1);
    expect(hits[0].state, p).toBe('closed');
    const got = createHash('sha256')
      .update(await downloadFile(tp, hits[0].id))
      .digest('hex');
    const want = createHash('sha256')
      .update(readFileSync(join(dir, p)))
      .digest('hex');
    expect(got, `${p} byte-exact`).toBe(want);
  }
  const records = await objectsUnder(tp, folder, 'record');
  expect(records, 'one sentinel').toHaveLength(1);
  expect(records[0].state).toBe('closed');
  const ids = (records[0].describe.details?.file_ids ?? []) as string[];
  expect(new Set(ids)).toEqual(new Set(paths.map((p) => byPath.get(`${folder}/${p}`)![0].id)));
  return { id: records[0].id, details: records[0].describe.details };
}

/** A TCP forwarder to the platform that can be cut (every connection reset, new ones refused) and mended. */
export async function cuttablePath(host: string, port: number) {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) return client.destroy();
    const up = connect(port, host);
    sockets.add(client).add(up);
    const drop = () => {
      client.destroy();
      up.destroy();
      sockets.delete(client);
      sockets.delete(up);
    };
    client.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    mend() {
      cut = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
