/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

/** Applets, workflows and their runs (jobs, analyses) through real HTTP to a real ua-platform. */
let tp: TestPlatform;
let Q: string; // a second project of alice's, to run into
let viewerToken: string; // VIEW in P, nothing in Q
let uploaderToken: string; // UPLOAD in P
let crossToken: string; // VIEW in P, CONTRIBUTE in Q
let outsiderToken: string; // no access to P

async function ok(route: string, input: Record<string, unknown>, token?: string): Promise<any> {
  const r = await tp.call(route, input, token);
  expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}
async function error(route: string, input: Record<string, unknown>, token?: string): Promise<any> {
  const r = await tp.call(route, input, token);
  expect(r.status, `${route}: ${JSON.stringify(r.body)}`).not.toBe(200);
  return r.body.error;
}
const ids = (body: any) => body.results.map((r: any) => r.id);

beforeAll(async () => {
  tp = await startTestPlatform();
  const a = tp.platform.admin;
  Q = a.createProject({ name: 'runs-elsewhere', owner: tp.user });
  const member = (handle: string, grants: Array<[string, 'VIEW' | 'UPLOAD' | 'CONTRIBUTE']>) => {
    const u = a.createUser(handle);
    for (const [p, level] of grants) a.invite(p, u, level);
    return a.createToken({ user: u }).token;
  };
  viewerToken = member('exe-viewer', [[tp.project, 'VIEW']]);
  uploaderToken = member('exe-uploader', [[tp.project, 'UPLOAD']]);
  crossToken = member('exe-cross', [
    [tp.project, 'VIEW'],
    [Q, 'CONTRIBUTE'],
  ]);
  outsiderToken = member('exe-outsider', [[Q, 'CONTRIBUTE']]);
});
afterAll(() => tp.stop());

let appletSeq = 0;
const newApplet = async (extra: Record<string, unknown> = {}) =>
  (await ok('applet/new', { project: tp.project, name: `app-${++appletSeq}`, ...extra })).id as string;

group('applets and workflows', () => {
  it('creates a closed applet that describes, lists and finds like a data object', async () => {
    const runSpec = { interpreter: 'bash', code: 'echo hi', distribution: 'Ubuntu' };
    const inputSpec = [{ name: 'reads', class: 'file' }];
    const id = (
      await ok('applet/new', {
        project: tp.project,
        name: 'align',
        folder: '/apps',
        parents: true,
        properties: { pipeline: 'v1' },
        tags: ['prod'],
        details: { owner: 'daemon' },
        runSpec,
        inputSpec,
      })
    ).id;
    expect(id).toMatch(/^applet-[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$/);
    const d = await ok(`${id}/describe`, { properties: true });
    expect(d).toMatchObject({
      id,
      class: 'applet',
      project: tp.project,
      folder: '/apps',
      name: 'align',
      state: 'closed',
      hidden: false,
      tags: ['prod'],
      types: [],
      properties: { pipeline: 'v1' },
      runSpec,
      inputSpec,
    });
    expect(typeof d.created).toBe('number');
    expect(d.modified).toBe(d.created);
    expect(d.details).toBeUndefined(); // only when asked, as for files and records
    expect((await ok(`${id}/describe`, { details: true })).details).toEqual({ owner: 'daemon' });

    const found = await ok('system/findDataObjects', { class: 'applet', properties: { pipeline: 'v1' } });
    expect(found.results).toEqual([{ project: tp.project, id }]);
    expect((await ok('system/findDataObjects', { properties: { pipeline: 'v1' } })).results).toEqual([
      { project: tp.project, id },
    ]);
    expect(
      (await ok('system/findDataObjects', { class: 'workflow', properties: { pipeline: 'v1' } })).results,
    ).toEqual([]);
    const listed = await ok(`${tp.project}/listFolder`, { folder: '/apps', describe: true });
    expect(listed.objects.map((o: any) => [o.id, o.describe.class])).toEqual([[id, 'applet']]);
    // Closed: metadata edits need CONTRIBUTE; alice administers.
    await ok(`${id}/addTags`, { tags: ['blessed'] });
    expect((await ok(`${id}/describe`, {})).tags).toEqual(['prod', 'blessed']);
    expect((await error(`${id}/rename`, { name: 'x' }, uploaderToken)).type).toBe('PermissionDenied');
  });

  it('creates a workflow with its stages kept as given', async () => {
    const stages = [{ id: 'stage-0', executable: 'applet-xxxx', input: {} }];
    const id = (await ok('workflow/new', { project: tp.project, name: 'wf', stages })).id;
    expect(id).toMatch(/^workflow-/);
    expect(await ok(`${id}/describe`, {})).toMatchObject({ id, class: 'workflow', state: 'closed', stages });
    const bare = (await ok('workflow/new', { project: tp.project })).id;
    expect(await ok(`${bare}/describe`, {})).toMatchObject({ name: bare, stages: [] });
    const found = await ok('system/findDataObjects', { class: 'workflow', name: 'wf' });
    expect(ids(found)).toEqual([id]);
  });

  it('honours nonces on applet/new and needs UPLOAD', async () => {
    const input = { project: tp.project, name: 'nonced', nonce: 'applet-nonce-1' };
    const a = await ok('applet/new', input);
    expect(await ok('applet/new', input)).toEqual(a);
    expect((await error('applet/new', { ...input, name: 'other' })).type).toBe('InvalidInput');
    expect((await error('applet/new', { project: tp.project }, viewerToken)).type).toBe('PermissionDenied');
    expect((await ok('applet/new', { project: tp.project }, uploaderToken)).id).toMatch(/^applet-/);
  });

  it('answers ResourceNotFound for an unknown applet, job or analysis', async () => {
    for (const id of [
      'applet-012301230123012301230123',
      'job-012301230123012301230123',
      'analysis-012301230123012301230123',
    ]) {
      const r = await tp.call(`${id}/describe`, {});
      expect(r.status).toBe(404);
      expect(r.body.error).toEqual({
        type: 'ResourceNotFound',
        message: `The entity ${id} could not be found`,
      });
    }
    expect((await error('applet-012301230123012301230123/run', { input: {} })).type).toBe('ResourceNotFound');
  });
});

group('runs', () => {
  it('runs an applet: a job in state done, described with the platform keys', async () => {
    const applet = await newApplet();
    const before = Date.now();
    const run = await ok(`${applet}/run`, {
      input: { reads: { $dnanexus_link: 'file-x' } },
      properties: { batch: 'b1' },
      tags: ['auto'],
      details: { why: 'test' },
    });
    expect(Object.keys(run)).toEqual(['id']);
    expect(run.id).toMatch(/^job-[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$/);
    const d = await ok(`${run.id}/describe`, {});
    expect(d).toEqual({
      id: run.id,
      class: 'job',
      project: tp.project,
      folder: '/',
      name: `app-${appletSeq}`,
      state: 'done',
      input: { reads: { $dnanexus_link: 'file-x' } },
      executable: applet,
      applet,
      launchedBy: tp.user,
      created: expect.any(Number),
      modified: expect.any(Number),
      properties: { batch: 'b1' },
      tags: ['auto'],
      details: { why: 'test' },
    });
    expect(d.created).toBeGreaterThanOrEqual(before);
    expect(await ok(`${run.id}/describe`, { fields: { state: true } })).toEqual({
      id: run.id,
      state: 'done',
    });
  });

  it('runs a workflow: an analysis with stages, under `workflow`', async () => {
    const wf = (await ok('workflow/new', { project: tp.project, name: 'pipeline' })).id;
    const run = await ok(`${wf}/run`, { input: {}, name: 'nightly', folder: '/out//2024/' });
    expect(run).toEqual({ id: expect.stringMatching(/^analysis-/), stages: [] });
    const d = await ok(`${run.id}/describe`, {});
    expect(d).toMatchObject({
      class: 'analysis',
      workflow: wf,
      executable: wf,
      name: 'nightly',
      folder: '/out/2024',
      state: 'done',
      stages: [],
    });
    expect(d.applet).toBeUndefined();
  });

  it('without a nonce every run is a new execution; with one, the same answer and one execution', async () => {
    const applet = await newApplet();
    const a = await ok(`${applet}/run`, { input: { n: 1 } });
    const b = await ok(`${applet}/run`, { input: { n: 1 } });
    expect(a.id).not.toBe(b.id);

    const input = { input: { n: 2 }, properties: { launch: 'once' }, nonce: 'run-nonce-1' };
    const first = await ok(`${applet}/run`, input);
    expect(await ok(`${applet}/run`, input)).toEqual(first);
    expect(ids(await ok('system/findExecutions', { properties: { launch: 'once' } }))).toEqual([first.id]);
    // Same nonce, another input, or the same input to another executable: refused, nothing made.
    const changed = await error(`${applet}/run`, { ...input, input: { n: 3 } });
    expect(changed).toEqual({
      type: 'InvalidInput',
      message: 'The nonce was already used with a different input',
    });
    expect((await error(`${await newApplet()}/run`, input)).type).toBe('InvalidInput');
    expect(ids(await ok('system/findExecutions', { properties: { launch: 'once' } }))).toEqual([first.id]);

    const wf = (await ok('workflow/new', { project: tp.project })).id;
    const w = { input: {}, nonce: 'run-nonce-2' };
    expect(await ok(`${wf}/run`, w)).toEqual(await ok(`${wf}/run`, w));
    expect(ids(await ok('system/findAnalyses', { executable: wf }))).toHaveLength(1);
  });

  it('checks its input', async () => {
    const applet = await newApplet();
    expect(await error(`${applet}/run`, {})).toEqual({ type: 'InvalidInput', message: 'input is required' });
    expect((await error(`${applet}/run`, { input: [1] })).type).toBe('InvalidInput');
    expect((await error(`${applet}/run`, { input: {}, folder: 'rel' })).type).toBe('InvalidInput');
    expect((await error(`${applet}/run`, { input: {}, project: 'nope' })).type).toBe('InvalidInput');
    expect((await error(`${applet}/run`, { input: {}, properties: { k: 1 } })).type).toBe('InvalidInput');
    expect(
      (await error(`${applet}/run`, { input: {}, project: 'project-012301230123012301230123' })).type,
    ).toBe('ResourceNotFound');
  });

  it('needs VIEW on the executable’s project and CONTRIBUTE where it runs', async () => {
    const applet = await newApplet();
    const denied = (level: string, project: string) => ({
      type: 'PermissionDenied',
      message: `${level} permission required in ${project} to perform this action`,
    });
    // VIEW and UPLOAD members cannot run in P (the default project).
    expect(await error(`${applet}/run`, { input: {} }, viewerToken)).toEqual(
      denied('CONTRIBUTE', tp.project),
    );
    expect(await error(`${applet}/run`, { input: {} }, uploaderToken)).toEqual(
      denied('CONTRIBUTE', tp.project),
    );
    // VIEW on P is enough to run P's applet into Q, where the caller contributes.
    const run = await ok(`${applet}/run`, { input: {}, project: Q }, crossToken);
    expect(await ok(`${run.id}/describe`, {}, crossToken)).toMatchObject({ project: Q, applet });
    // No access to the applet's project at all: VIEW is what is missing.
    expect(await error(`${applet}/run`, { input: {}, project: Q }, outsiderToken)).toEqual(
      denied('VIEW', tp.project),
    );
    // A job is read with VIEW on the project it ran in.
    expect(await error(`${run.id}/describe`, {}, viewerToken)).toEqual(denied('VIEW', Q));
    expect(ids(await ok('system/findExecutions', {}, viewerToken))).not.toContain(run.id);
  });
});

group('findExecutions', () => {
  it('filters by project, executable, class and properties, newest first, describing on request', async () => {
    const appletA = await newApplet();
    const appletB = await newApplet();
    const wf = (await ok('workflow/new', { project: tp.project })).id;
    const tag = { suite: 'find' };
    const j1 = (await ok(`${appletA}/run`, { input: {}, properties: { ...tag, k: '1' } })).id;
    const j2 = (await ok(`${appletB}/run`, { input: {}, properties: { ...tag, k: '2' } })).id;
    const j3 = (await ok(`${appletA}/run`, { input: {}, project: Q, properties: { ...tag, k: '3' } })).id;
    const a1 = (await ok(`${wf}/run`, { input: {}, properties: { ...tag, k: '1' } })).id;

    const find = async (input: Record<string, unknown>, route = 'system/findExecutions') =>
      ids(await ok(route, { properties: tag, ...input }));
    const containing = (...xs: string[]) => expect.arrayContaining(xs);
    expect(await find({})).toEqual(containing(j1, j2, j3, a1));
    expect(await find({})).toHaveLength(4);
    expect(await find({ project: tp.project })).toEqual(containing(j1, j2, a1));
    expect(await find({ project: Q })).toEqual([j3]);
    expect(await find({ executable: appletA })).toEqual(containing(j1, j3));
    expect(await find({ executable: appletA, project: Q })).toEqual([j3]);
    expect(await find({ class: 'analysis' })).toEqual([a1]);
    expect(await find({}, 'system/findAnalyses')).toEqual([a1]);
    expect(await find({}, 'system/findJobs')).toEqual(containing(j1, j2, j3));
    expect(await find({}, 'system/findJobs')).toHaveLength(3);
    expect(await find({ properties: { ...tag, k: '1' } })).toEqual(containing(j1, a1));
    expect(await find({ properties: { ...tag, k: true } })).toHaveLength(4);
    expect(await find({ properties: { ...tag, k: 'none' } })).toEqual([]);

    // Newest first: created descending (same-millisecond ties by ID, also descending).
    const all = await ok('system/findExecutions', { properties: tag, describe: true });
    const created = all.results.map((r: any) => [r.describe.created, r.id]);
    const sorted = [...created].sort((x, y) => y[0] - x[0] || (x[1] < y[1] ? 1 : x[1] > y[1] ? -1 : 0));
    expect(created).toEqual(sorted);
    expect(all.next).toBeNull();
    const r1 = all.results.find((r: any) => r.id === j1);
    expect(r1.describe).toMatchObject({ id: j1, class: 'job', applet: appletA, state: 'done' });
    expect((await ok('system/findExecutions', { properties: tag })).results[0].describe).toBeUndefined();
    const picked = await ok('system/findJobs', {
      project: Q,
      properties: tag,
      describe: { fields: { project: true } },
    });
    expect(picked.results).toEqual([{ id: j3, describe: { id: j3, project: Q } }]);

    // Paging: limit, then `next` back as `starting`.
    const p1 = await ok('system/findExecutions', { properties: tag, limit: 3 });
    expect(p1.results).toHaveLength(3);
    const p2 = await ok('system/findExecutions', { properties: tag, limit: 3, starting: p1.next });
    expect([...ids(p1), ...ids(p2)]).toEqual(ids(all));
    expect(p2.next).toBeNull();
  });

  it('shows only what the caller can view and checks its filters', async () => {
    const applet = await newApplet();
    const j = (await ok(`${applet}/run`, { input: {}, properties: { vis: '1' } })).id;
    expect(ids(await ok('system/findExecutions', { properties: { vis: '1' } }, viewerToken))).toEqual([j]);
    expect(ids(await ok('system/findExecutions', { properties: { vis: '1' } }, outsiderToken))).toEqual([]);
    expect((await error('system/findExecutions', { project: tp.project }, outsiderToken)).type).toBe(
      'PermissionDenied',
    );
    expect((await error('system/findExecutions', { class: 'applet' })).type).toBe('InvalidInput');
    expect((await error('system/findExecutions', { properties: { k: 1 } })).type).toBe('InvalidInput');
    expect((await error('system/findExecutions', { limit: 0 })).type).toBe('InvalidInput');
    expect((await error('system/findExecutions', { starting: 'x' })).type).toBe('InvalidInput');
  });
});
