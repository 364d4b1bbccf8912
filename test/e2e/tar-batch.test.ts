/**
 * A tar batch through the engine session to ua-platform, read straight from its member files: the
 * stored object is the layout's bytes exactly and extracts to the sources; a member that changes
 * fails the batch and leaves its object open; an interrupted batch resumes into the same open file
 * without sending its stored parts again, and a different batch does not resume it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe as suite, expect, it } from 'vitest';
import type { UaEvent } from '../../src/accounting/events.js';
import { defaultOptions } from '../../src/config/options.js';
import { openSession, type EngineOptions } from '../../src/engine/session.js';
import { SIGNATURE_PROPERTY } from '../../src/plan/signature.js';
import { planTar, tarMember, type TarBatchMember } from '../../src/plan/tar-plan.js';
import type { TarLayout } from '../../src/read/tar-layout.js';
import type { FileResult, ScheduledFile } from '../../src/transfer/scheduler.js';
import { md5, writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { describe, downloadFile, listFiles } from '../helpers/remote.js';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const e2e = usePlatformAndTempDir();
beforeEach(() => {
  e2e.tp.platform.faults.clear();
  e2e.tp.platform.stats.reset();
});

const options = (o: Partial<EngineOptions> = {}): EngineOptions => ({
  ...defaultOptions(),
  uploadThreads: 2,
  compressThreads: 2,
  waitOnClose: true,
  stateDir: join(e2e.tmp.dir, 'state'),
  ...o,
});

/** Uploads `files` in a fresh session; the results, and every event. */
async function upload(
  files: ScheduledFile[],
  o: Partial<EngineOptions> = {},
  onEvent?: (e: UaEvent) => void,
  signal?: AbortSignal,
) {
  const server = { protocol: 'http', host: e2e.tp.platform.host, port: e2e.tp.platform.port };
  const events: UaEvent[] = [];
  const session = await openSession(
    { options: options(o), server, token: e2e.tp.token, retry: { minDelayMs: 10, maxDelayMs: 50 }, env: {} },
    (e) => {
      events.push(e);
      onEvent?.(e);
    },
    signal ?? new AbortController().signal,
  );
  const results: FileResult[] = [];
  try {
    await session.upload(files, (r) => results.push(r));
  } finally {
    await session.close();
  }
  return { results, events };
}

/**
 * A run folder of `n` files in `dir`: a 0-byte file, one of 1 byte, one of exactly 512, a long name
 * (ustar prefix), a longer one (pax), two large files that span part boundaries, the rest small.
 */
function runFolder(dir: string, n = 50): TarBatchMember[] {
  const rels = [
    'RUN1/RTAComplete.txt',
    'RUN1/one.byte',
    'RUN1/block.512',
    `RUN1/Data/Intensities/BaseCalls/L001/${'C1.1/'.repeat(20)}L001_1.cbcl`,
    `RUN1/Data/${'x'.repeat(120)}.filter`,
    'RUN1/Data/Intensities/BaseCalls/L001/C2.1/L001_1.cbcl',
    'RUN1/Data/Intensities/BaseCalls/L001/C3.1/L001_1.cbcl',
  ];
  const sizes = [0, 1, 512, 3000, 777, Math.floor(4.8 * MiB), 5 * MiB + 1];
  for (let i = rels.length; i < n; i++) {
    rels.push(`RUN1/InterOp/C${i}.1/metrics_${i}.bin`);
    sizes.push((i * 7919) % 40_000);
  }
  return rels.map((rel, i) => {
    const path = join(dir, `src-${i}`);
    writeRandomFile(path, sizes[i]);
    return tarMember(path, rel);
  });
}

/** The archive's bytes from the layout and the member files as they are now. */
function expectedBytes(layout: TarLayout, members: TarBatchMember[]): Buffer {
  const data = members.map((m) => readFileSync(m.absPath));
  return Buffer.concat(
    layout
      .segments(0, layout.size)
      .map((s) =>
        s.kind === 'bytes'
          ? Buffer.from(s.bytes)
          : s.kind === 'zeros'
            ? Buffer.alloc(s.length)
            : data[s.member].subarray(s.offset, s.offset + s.length),
      ),
  );
}

const remote = (name: string) => ({
  projectId: e2e.tp.project,
  folder: '/RUN1/runs',
  name,
  properties: { run_id: 'RUN1' },
});
const plan = (members: TarBatchMember[], name: string) =>
  planTar(members, remote(name), { chunkSize: CHUNK });
const named = async (name: string) => (await listFiles(e2e.tp)).filter((f) => f.describe.name === name);

/** Writes one byte in the middle of a member and restores its size and times exactly (`touch -r`). */
function rewriteInPlace(path: string): void {
  execFileSync('touch', ['-r', path, `${path}.ref`]);
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from([0x5a]), 0, 1, 0);
  closeSync(fd);
  execFileSync('touch', ['-r', `${path}.ref`, path]);
}

suite('tar batches', () => {
  it('uploads a 3-part batch of 50 files byte-exact; it extracts to the sources', async () => {
    const dir = join(e2e.tmp.dir, 'exact');
    const members = runFolder(dir);
    const sf = plan(members, 'run.RUN1.lane.all_000.tar');
    expect(sf.plan.parts).toHaveLength(3);
    const { results } = await upload([sf]);
    expect(results.map((r) => [r.outcome, r.error])).toEqual([['uploaded', undefined]]);
    const id = results[0].fileId!;
    const d = await describe(e2e.tp, id, {
      fields: { state: true, media: true, folder: true, name: true, properties: true, parts: true },
    });
    expect(d).toMatchObject({
      state: 'closed',
      media: 'application/x-tar',
      folder: '/RUN1/runs',
      name: 'run.RUN1.lane.all_000.tar',
    });
    expect(d.properties).toEqual({ run_id: 'RUN1', [SIGNATURE_PROPERTY]: sf.plan.signature });
    expect(Object.keys(d.parts)).toHaveLength(3);

    const stored = await downloadFile(e2e.tp, id);
    expect(stored.length).toBe(sf.plan.entry.size);
    expect(stored.equals(expectedBytes(sf.plan.entry.tar!.layout, members))).toBe(true);
    const tar = join(e2e.tmp.dir, 'exact.tar');
    const out = join(e2e.tmp.dir, 'exact-out');
    mkdirSync(out);
    writeFileSync(tar, stored);
    execFileSync('tar', ['-xf', tar, '-C', out]);
    for (const m of members) expect(md5(readFileSync(join(out, m.name)))).toBe(md5(readFileSync(m.absPath)));
  });

  it('fails a batch whose member changed before its upload; its object stays open', async () => {
    const members = runFolder(join(e2e.tmp.dir, 'before'), 10);
    const sf = plan(members, 'run.RUN1.lane.all_001.tar');
    rewriteInPlace(members[6].absPath);
    const { results } = await upload([sf]);
    expect(results[0].outcome).toBe('failed');
    expect(results[0].error).toContain(`${members[6].absPath} changed while it was uploaded (rewritten at`);
    const [f] = await named('run.RUN1.lane.all_001.tar');
    expect(f.describe.state).toBe('open');
    expect(e2e.tp.platform.stats.okPuts(f.id)).toEqual([]); // nothing sent
  });

  it('fails a batch whose member is rewritten during its upload; its object stays open', async () => {
    const members = runFolder(join(e2e.tmp.dir, 'during'));
    const sf = plan(members, 'run.RUN1.lane.all_002.tar');
    e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 150, count: 100 });
    // Member 3 is in part 1, already read when part 1 is stored; only the check before close can see it.
    expect(sf.plan.entry.tar!.layout.dataOffset(4)).toBeLessThan(CHUNK);
    const { results } = await upload([sf], { uploadThreads: 1 }, (e) => {
      if (e.type === 'part-done' && e.index === 1) rewriteInPlace(members[3].absPath);
    });
    expect(results[0].outcome).toBe('failed');
    expect(results[0].error).toContain(`${members[3].absPath} changed while it was uploaded (rewritten at`);
    const [f] = await named('run.RUN1.lane.all_002.tar');
    expect(f.describe.state).toBe('open');
  });

  it('resumes an interrupted batch into the same open file, sending only its missing parts', async () => {
    const members = runFolder(join(e2e.tmp.dir, 'resume'));
    const name = 'run.RUN1.lane.all_003.tar';
    e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 100, count: 100 });
    const ac = new AbortController();
    const first = await upload(
      [plan(members, name)],
      { uploadThreads: 1 },
      (e) => e.type === 'part-done' && e.index === 1 && ac.abort(),
      ac.signal,
    );
    expect(first.results[0].outcome).toBe('failed');
    const [open] = await named(name);
    expect(open.describe.state).toBe('open');
    const before = Object.keys((await describe(e2e.tp, open.id, { parts: true })).parts).map(Number);
    expect(before).toContain(1);
    expect(before.length).toBeLessThan(3);

    // A different batch under the same name (one member fewer) is another file, never this one.
    e2e.tp.platform.faults.clear();
    const other = await upload([plan(members.slice(0, -1), name)]);
    expect(other.results[0].outcome).toBe('uploaded');
    expect(other.results[0].fileId).not.toBe(open.id);

    // The same batch planned again (fresh stats of the same files) resumes it, and is verified whole.
    e2e.tp.platform.stats.reset();
    const again = plan(
      members.map((m) => tarMember(m.absPath, m.name)),
      name,
    );
    const { results } = await upload([again], { verify: true });
    expect(results.map((r) => [r.outcome, r.fileId, r.error])).toEqual([['resumed', open.id, undefined]]);
    const sent = e2e.tp.platform.stats.okPuts(open.id).map((p) => p.index);
    expect(sent.filter((i) => before.includes(i))).toEqual([]);
    expect(sent.length + before.length).toBe(3);
    const stored = await downloadFile(e2e.tp, open.id);
    expect(stored.equals(expectedBytes(again.plan.entry.tar!.layout, members))).toBe(true);
  });
});
