import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { md5, tempDir, writeRandomFile, writeTextFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { classicSignature, describe, downloadFile, listFiles, putPart } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const e2e = usePlatformAndTempDir();

/** Everything a run could change: every file object (state, parts) and every folder of the project. */
async function snapshot(): Promise<unknown> {
  const files = await Promise.all(
    (await listFiles(e2e.tp)).map(async (f) => ({
      id: f.id,
      state: f.describe.state,
      folder: f.describe.folder,
      name: f.describe.name,
      parts: (await describe(e2e.tp, f.id, { parts: true })).parts,
    })),
  );
  const folders: string[] = [];
  const walk = async (folder: string) => {
    const r = await e2e.tp.call(`${e2e.tp.project}/listFolder`, { folder, only: 'folders' });
    expect(r.status).toBe(200);
    for (const f of r.body.folders as string[]) {
      folders.push(f);
      await walk(f);
    }
  };
  await walk('/');
  return { files: files.sort((a, b) => a.id.localeCompare(b.id)), folders: folders.sort() };
}

it('prints files, remote names, sizes, parts and resume state, and makes nothing', async () => {
  const dir = join(e2e.tmp.dir, 'run');
  writeTextFile(join(dir, 'reads.fastq'), 12 * MiB + 3); // compressed: .gz
  const partial = join(dir, 'half.bin');
  const data = writeRandomFile(partial, 3 * CHUNK + 100);
  writeRandomFile(join(dir, 'sub', 'done.bin'), 1000);
  writeRandomFile(join(dir, 'skip.tmp'), 10);
  // done.bin uploaded for real; half.bin left open by an "earlier run" with parts 1 and 3 on the server.
  const up = await runUa(
    // The same chunk size as the dry run below: the signature records it.
    [
      ...['--project', e2e.tp.project, '--do-not-compress', '--chunk-size', '5M'],
      join(dir, 'sub', 'done.bin'),
    ],
    {
      env: e2e.tp.env,
    },
  );
  expect(up.code, up.stderr).toBe(0);
  const doneId = up.stdout.trim();
  const created = await e2e.tp.call('file/new', {
    project: e2e.tp.project,
    folder: '/runs/run',
    name: 'half.bin',
    parents: true,
    media: '',
    properties: { '.system-fileSignature': classicSignature(partial, CHUNK) },
  });
  const halfId = created.body.id as string;
  await putPart(e2e.tp, halfId, 1, data.subarray(0, CHUNK));
  await putPart(e2e.tp, halfId, 3, data.subarray(2 * CHUNK, 3 * CHUNK));

  const before = await snapshot();
  expect(before).toMatchObject({ folders: ['/runs', '/runs/run'] });
  const state = tempDir('ua-dry-state-');
  e2e.tp.platform.stats.reset();
  const args = [
    '--project',
    e2e.tp.project,
    '--folder',
    '/runs',
    '--chunk-size',
    '5M',
    '--recursive',
    '--exclude',
    '*.tmp',
  ];
  const env = { ...e2e.tp.env, UA_STATE_DIR: join(state.dir, 'journal') };
  const text = await runUa([...args, '--do-not-compress', '--dry-run', dir], { env });
  expect(text.code, text.stderr).toBe(0);
  const P = e2e.tp.project;
  expect(text.stdout.split('\n')).toEqual([
    `${join(dir, 'half.bin')} → ${P}:/runs/run/half.bin  15.0 MiB  4 parts of 5.00 MiB, as is  resumes ${halfId} at 66%: 2 of 4 parts on the server (each checked before it is skipped)`,
    `${join(dir, 'reads.fastq')} → ${P}:/runs/run/reads.fastq  12.0 MiB  3 parts of 5.00 MiB, as is  new`,
    `${join(dir, 'sub', 'done.bin')} → ${P}:/runs/run/sub/done.bin  1000 B  1 part of 5.00 MiB, as is  already uploaded as ${doneId} (done.bin): not sent again`,
    '',
  ]);
  expect(text.stderr).toBe(
    'dry run: 3 files, 27.0 MiB; 1 new, 1 to resume (2 parts already on the server), 1 already uploaded; 5 parts to send; nothing was created\n',
  );

  // Compressing: the remote name gets .gz; the open file's signature differs (compress 1), so it is new.
  const json = await runUa([...args, '--json', '--dry-run', dir], { env });
  expect(json.code, json.stderr).toBe(0);
  const lines = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.map((l) => [l.type, l.remote, l.compress, l.parts, l.resume.state])).toEqual([
    ['plan-file', `${P}:/runs/run/half.bin.gz`, true, 4, 'new'],
    ['plan-file', `${P}:/runs/run/reads.fastq.gz`, true, 3, 'new'],
    ['plan-file', `${P}:/runs/run/sub/done.bin.gz`, true, 1, 'new'],
    ['plan-summary', undefined, undefined, undefined, undefined],
  ]);
  expect(lines[0]).toMatchObject({
    path: join(dir, 'half.bin'),
    size: 3 * CHUNK + 100,
    chunkSize: CHUNK,
    name: 'half.bin.gz',
  });
  expect(lines[3]).toMatchObject({ files: 3, new: 3, resume: 0, closed: 0, partsToSend: 8, created: 0 });

  // Direct mode resumes closed objects only (its multipart state is in the journal): half.bin is new there.
  const direct = await runUa([...args, '--do-not-compress', '--json', '--dry-run', dir], {
    env: { ...env, UA_DIRECT: '1' },
  });
  expect(direct.code, direct.stderr).toBe(0);
  const states = direct.stdout
    .trim()
    .split('\n')
    .slice(0, 3)
    .map((l) => JSON.parse(l).resume.state);
  expect(states).toEqual(['new', 'new', 'closed']);

  // Nothing made: the same objects, parts and folders; only read-only routes called; no journal written.
  const routes = [...e2e.tp.platform.stats.apiCalls.keys()]; // before snapshot() adds its own calls
  expect(await snapshot()).toEqual(before);
  expect(routes.filter((r) => !/describe|find/i.test(r))).toEqual([]);
  expect(existsSync(join(state.dir, 'journal')) ? readdirSync(join(state.dir, 'journal')) : []).toEqual([]);
  expect(e2e.tp.platform.stats.okPuts()).toHaveLength(0);
  for (const out of [text.stdout, text.stderr, json.stdout]) expect(out).not.toContain(e2e.tp.token);

  // The real run then does what the plan said: resumes half.bin by its two missing parts, byte-exact.
  const real = await runUa([...args, '--do-not-compress', '--wait-on-close', dir], { env });
  expect(real.code, real.stderr).toBe(0);
  expect(real.stdout.trim().split('\n')[0]).toBe(halfId);
  expect(
    e2e.tp.platform.stats
      .okPuts(halfId)
      .map((p) => p.index)
      .sort(),
  ).toEqual([2, 4]);
  expect(md5(await downloadFile(e2e.tp, halfId))).toBe(md5(data));
  state.cleanup();
});

it('bad input and a refused project exit as a real run would, creating nothing', async () => {
  const before = (await listFiles(e2e.tp)).length;
  const missing = await runUa(['--project', e2e.tp.project, '--dry-run', join(e2e.tmp.dir, 'nope')], {
    env: e2e.tp.env,
  });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('does not exist');
  const path = join(e2e.tmp.dir, 'x.bin');
  writeRandomFile(path, 10);
  const refused = await runUa(['--project', 'project-000000000000000000000000', '--dry-run', path], {
    env: e2e.tp.env,
  });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^ERROR: /);
  expect(refused.stdout).toBe('');
  const cert = await runUa(
    ['--project', e2e.tp.project, '--certificate-file', '/nonexistent/ca.pem', '--dry-run', path],
    {
      env: e2e.tp.env,
    },
  );
  expect([cert.code, cert.stderr.trim().split('\n').length]).toEqual([1, 1]);
  expect(cert.stderr).toMatch(/^ERROR: Unable to read the certificate file "\/nonexistent\/ca.pem"/);
  // stdin: planned without reading it (its compression and parts are decided as it is read).
  const stdin = await runUa(['--project', e2e.tp.project, '-i', '--dry-run', 'piped.txt'], {
    env: e2e.tp.env,
    stdin: 'not read',
  });
  expect(stdin.code, stdin.stderr).toBe(0);
  expect(stdin.stdout).toBe(
    `<stdin> → ${e2e.tp.project}:/piped.txt[.gz unless already compressed]  size unknown  parts cut as read  new (stdin)\n`,
  );
  expect((await listFiles(e2e.tp)).length).toBe(before);
});
