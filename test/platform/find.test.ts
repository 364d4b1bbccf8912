import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { newFile, uploadPart, uploadWhole, waitClosed } from './file-helpers.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp.stop());

const find = async (input: Record<string, unknown>, token?: string) => {
  const r = await tp.call('system/findDataObjects', input, token);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as {
    results: Array<{ project: string; id: string; describe?: Record<string, unknown> }>;
    next: unknown;
  };
};

/** A fresh project per test keeps result sets exact. */
function freshProject(name: string): string {
  return tp.platform.admin.createProject({ name, owner: tp.user });
}

group('the classic resume query', () => {
  it('finds an open, hidden file anywhere in the project by its signature, with state, name and parts', async () => {
    const project = freshProject('resume');
    const sig = `1048576 1700000000 0 78643200 /data/run 1/reads.fq`;
    const id = await newFile(tp, {
      project,
      name: 'reads.fq',
      folder: '/deep/er',
      parents: true,
      hidden: true,
      properties: { '.system-fileSignature': sig },
    });
    const part = randomBytes(100);
    await uploadPart(tp, id, 1, part);
    await newFile(tp, { project, properties: { '.system-fileSignature': sig + 'x' } }); // another file
    // The classic query describes with `{project}` alone; `parts` is not a default field, so ua
    // (resume-lookup.ts) asks for it by name on top of the defaults.
    const query = {
      class: 'file',
      describe: { project, defaultFields: true, fields: { parts: true } },
      properties: { '.system-fileSignature': sig },
      scope: { folder: '/', project, recurse: true },
      visibility: 'either',
    };
    const r = await find(query);
    expect(r.next).toBeNull();
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toMatchObject({
      project,
      id,
      describe: { id, state: 'open', name: 'reads.fq', parts: { '1': { state: 'complete', size: 100 } } },
    });
    const classic = await find({ ...query, describe: { project } });
    // The classic agent's own query (describe: {project}) gets the open file's parts by default.
    expect(classic.results[0].describe).toMatchObject({
      id,
      state: 'open',
      name: 'reads.fq',
      parts: { '1': { state: 'complete', size: 100 } },
    });
    // The default visibility is `visible`, so the hidden file is not found without `either`.
    expect((await find({ ...query, visibility: undefined })).results).toEqual([]);
    expect((await find({ ...query, visibility: 'hidden' })).results).toHaveLength(1);
    // Another project's scope does not see it.
    const other = freshProject('other');
    expect((await find({ ...query, scope: { project: other } })).results).toEqual([]);
  });

  it('filters by state and folder', async () => {
    const project = freshProject('states');
    const closed = await uploadWhole(tp, [randomBytes(10)], { project, folder: '/a', parents: true });
    await waitClosed(tp, closed);
    const open = await newFile(tp, { project, folder: '/a/b', parents: true });
    const ids = async (input: Record<string, unknown>) =>
      (await find({ scope: { project }, ...input })).results.map((r) => r.id).sort();
    expect(await ids({ state: 'closed' })).toEqual([closed]);
    expect(await ids({ state: 'open' })).toEqual([open]);
    expect(await ids({})).toEqual([closed, open].sort());
    expect(await ids({ scope: { project, folder: '/a', recurse: false } })).toEqual([closed]);
    expect(await ids({ scope: { project, folder: '/a/b' } })).toEqual([open]);
    expect(await ids({ scope: { project, folder: '/a/b/c' } })).toEqual([]);
  });
});

group('filters and paging', () => {
  it('matches names exactly, by glob with escapes and by regexp; tags and property presence', async () => {
    const project = freshProject('names');
    const a = await newFile(tp, { project, name: 'sample1.fastq', tags: ['x', 'y'] });
    const b = await newFile(tp, { project, name: 'sample2.bam', tags: ['x'], properties: { lane: '3' } });
    const star = await newFile(tp, { project, name: 'odd*name' });
    const ids = async (input: Record<string, unknown>) =>
      (await find({ scope: { project }, ...input })).results.map((r) => r.id).sort();
    expect(await ids({ name: 'sample1.fastq' })).toEqual([a]);
    expect(await ids({ name: { glob: 'sample?.*' } })).toEqual([a, b].sort());
    expect(await ids({ name: { glob: '*.bam' } })).toEqual([b]);
    expect(await ids({ name: { glob: 'odd\\*name' } })).toEqual([star]);
    expect(await ids({ name: { glob: 'odd\\*n' } })).toEqual([]);
    expect(await ids({ name: { regexp: '^sample\\d\\.f' } })).toEqual([a]);
    expect(await ids({ tags: { $and: ['x', 'y'] } })).toEqual([a]);
    expect(await ids({ tags: { $or: ['y', 'nope'] } })).toEqual([a]);
    expect(await ids({ properties: { lane: true } })).toEqual([b]);
    expect(await ids({ properties: { lane: '4' } })).toEqual([]);
    const bad = await tp.call('system/findDataObjects', { name: { regexp: '(' } });
    expect(bad.body.error.type).toBe('InvalidInput');
  });

  it('pages with limit and next, newest first, without repeats or gaps', async () => {
    const project = freshProject('paging');
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push(await newFile(tp, { project, name: `p${i}` }));
    const seen: string[] = [];
    let starting: unknown = undefined;
    let pages = 0;
    do {
      const r = await find({ scope: { project }, limit: 3, starting });
      expect(r.results.length).toBeLessThanOrEqual(3);
      seen.push(...r.results.map((x) => x.id));
      starting = r.next ?? undefined;
      pages++;
    } while (starting !== undefined);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...made].sort());
    expect(new Set(seen).size).toBe(7);
    // Newest modified first: the last created comes first unless two share a millisecond.
    const all = await find({ scope: { project }, describe: { fields: { modified: true } } });
    const mods = all.results.map((r) => r.describe!.modified as number);
    expect([...mods].sort((x, y) => y - x)).toEqual(mods);
  });

  it('property filters give the same results, in the same order, combined with every other filter', async () => {
    // The first property filter drives the SQL (a join from the property index); the results must
    // be what filtering the whole project row by row gives.
    const project = freshProject('props');
    const sig = 'same signature';
    const made: Array<{ id: string; name: string; folder: string; hidden: boolean; lane?: string }> = [];
    for (let i = 0; i < 9; i++) {
      const folder = i % 3 === 0 ? '/' : i % 3 === 1 ? '/a' : '/a/b';
      const name = i % 2 === 0 ? 'even.bin' : `odd${i}.bin`;
      const hidden = i === 4;
      const lane = i % 4 === 0 ? '1' : undefined;
      const properties: Record<string, string> = { sig: i === 7 ? 'other' : sig, ...(lane ? { lane } : {}) };
      const id = await newFile(tp, { project, folder, parents: true, name, hidden, properties });
      made.push({ id, name, folder, hidden, lane: properties.sig === sig ? lane : 'no-sig' });
    }
    const rec = await tp.call('record/new', { project, name: 'even.bin', properties: { sig } });
    expect(rec.status, JSON.stringify(rec.body)).toBe(200);
    const recordId = rec.body.id as string;

    const page = async (input: Record<string, unknown>) => {
      const out: string[] = [];
      let starting: unknown = undefined;
      do {
        const r = await find({ scope: { project }, visibility: 'either', limit: 2, starting, ...input });
        out.push(...r.results.map((x) => x.id));
        starting = r.next ?? undefined;
      } while (starting !== undefined);
      return out;
    };
    const all = await page({});
    expect(all).toHaveLength(10);
    const only = (keep: (id: string) => boolean) => all.filter(keep);
    const byId = new Map(made.map((m) => [m.id, m]));
    const hasSig = (id: string) => id === recordId || (byId.get(id)!.lane ?? '') !== 'no-sig';

    expect(await page({ properties: { sig } })).toEqual(only(hasSig));
    expect(await page({ properties: { sig: true } })).toEqual(all);
    expect(await page({ properties: { sig, lane: '1' } })).toEqual(
      only((id) => hasSig(id) && byId.get(id)?.lane === '1'),
    );
    expect(await page({ properties: { lane: '1', sig } })).toEqual(
      only((id) => hasSig(id) && byId.get(id)?.lane === '1'),
    );
    expect(await page({ class: 'file', properties: { sig }, name: 'even.bin' })).toEqual(
      only((id) => hasSig(id) && byId.get(id)?.name === 'even.bin'),
    );
    expect(await page({ properties: { sig }, scope: { project, folder: '/a', recurse: false } })).toEqual(
      only((id) => hasSig(id) && byId.get(id)?.folder === '/a'),
    );
    expect(await page({ properties: { sig }, scope: { project, folder: '/a' } })).toEqual(
      only((id) => hasSig(id) && (byId.get(id)?.folder ?? '/').startsWith('/a')),
    );
    expect(await page({ properties: { sig }, visibility: 'hidden' })).toEqual(
      only((id) => hasSig(id) && byId.get(id)?.hidden === true),
    );
    expect(await page({ properties: { sig }, state: 'closed' })).toEqual([]);
    expect(await page({ properties: { sig: 'nothing' } })).toEqual([]);
    // Without a scope: every project the caller can view, other projects' files excluded.
    const elsewhere = await newFile(tp, { project: freshProject('props-other'), properties: { sig } });
    const everywhere = (await find({ properties: { sig }, visibility: 'either' })).results.map((r) => r.id);
    expect(everywhere).toContain(elsewhere);
    expect(everywhere.filter((id) => id !== elsewhere).sort()).toEqual(
      expect.arrayContaining(only(hasSig).sort()),
    );
  });

  it('only searches projects the caller can view', async () => {
    const project = freshProject('private');
    const id = await newFile(tp, { project, name: 'secret' });
    const bob = tp.platform.admin.createUser('bob-find');
    const bt = tp.platform.admin.createToken({ user: bob }).token;
    expect((await find({ name: 'secret' }, bt)).results).toEqual([]);
    expect((await find({ name: 'secret' })).results.map((r) => r.id)).toEqual([id]);
    const denied = await tp.call('system/findDataObjects', { scope: { project } }, bt);
    expect(denied.body.error.type).toBe('PermissionDenied');
    tp.platform.admin.invite(project, bob, 'VIEW');
    expect((await find({ name: 'secret' }, bt)).results.map((r) => r.id)).toEqual([id]);
    expect((await find({ name: 'secret', level: 'UPLOAD' }, bt)).results).toEqual([]);
  });
});

group('describeDataObjects', () => {
  it('describes several objects and reports the missing ones per entry', async () => {
    const id = await newFile(tp, { properties: { k: 'v' } });
    const missing = 'file-000000000000000000000000';
    const r = await tp.call('system/describeDataObjects', {
      objects: [id, { id: missing }],
      classDescribeOptions: { '*': { fields: { name: true, properties: true } } },
    });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toEqual({ describe: { id, name: 'f.bin', properties: { k: 'v' } } });
    expect(r.body.results[1].error.type).toBe('ResourceNotFound');
  });
});
