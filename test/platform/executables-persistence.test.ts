/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type RunningPlatform } from '../../src/platform/index.js';
import { openDb } from '../../src/platform/store/db.js';
import { tempDir } from '../helpers/files.js';
import { callApi } from '../helpers/platform.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(dataDir: string): Promise<RunningPlatform> {
  const p = await startPlatform({ dataDir, quiet: true });
  cleanups.push(() => p.stop());
  return p;
}

it('applets, workflows, executions, nonces, details and removals survive a restart', async () => {
  const tmp = tempDir('ua-platform-exe-persist-');
  cleanups.push(tmp.cleanup);
  const first = await start(tmp.dir);
  const alice = first.admin.createUser('alice');
  const project = first.admin.createProject({ name: 'kept', owner: alice });
  const { token } = first.admin.createToken({ user: alice });
  const call = async (p: RunningPlatform, route: string, input: Record<string, unknown>) => {
    const r = await callApi(p.url, route, input, token);
    expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
    return r.body as any;
  };

  const applet = (await call(first, 'applet/new', { project, name: 'a', runSpec: { code: 'x' } })).id;
  const workflow = (await call(first, 'workflow/new', { project, name: 'w', properties: { p: '1' } })).id;
  const runInput = { input: { n: 1 }, properties: { batch: 'b' }, nonce: 'persisted-nonce' };
  const job = (await call(first, `${applet}/run`, runInput)).id;
  const analysis = (await call(first, `${workflow}/run`, { input: {}, name: 'nightly' })).id;
  const record = (await call(first, 'record/new', { project, name: 'r' })).id;
  await call(first, `${record}/setDetails`, { kept: [1, 2] });
  const removed = (await call(first, 'record/new', { project, name: 'gone' })).id;
  await call(first, `${project}/removeObjects`, { objects: [removed] });
  const before = {
    applet: await call(first, `${applet}/describe`, { details: true, properties: true }),
    workflow: await call(first, `${workflow}/describe`, { properties: true }),
    job: await call(first, `${job}/describe`, {}),
    analysis: await call(first, `${analysis}/describe`, {}),
  };
  await first.stop();

  const second = await start(tmp.dir);
  expect(await call(second, `${applet}/describe`, { details: true, properties: true })).toEqual(
    before.applet,
  );
  expect(before.applet.runSpec).toEqual({ code: 'x' });
  expect(await call(second, `${workflow}/describe`, { properties: true })).toEqual(before.workflow);
  expect(await call(second, `${job}/describe`, {})).toEqual(before.job);
  expect(await call(second, `${analysis}/describe`, {})).toEqual(before.analysis);
  expect(before.job).toMatchObject({ state: 'done', applet, input: { n: 1 } });
  // The nonce is kept too: the same run again answers the same job and launches nothing.
  expect((await call(second, `${applet}/run`, runInput)).id).toBe(job);
  const found = await call(second, 'system/findExecutions', { project, properties: { batch: 'b' } });
  expect(found.results).toEqual([{ id: job }]);
  expect((await call(second, 'system/findAnalyses', { project })).results).toEqual([{ id: analysis }]);
  expect(await call(second, `${record}/getDetails`, {})).toEqual({ kept: [1, 2] });
  const dataObjects = await call(second, 'system/findDataObjects', { scope: { project } });
  expect(dataObjects.results.map((r: any) => r.id).sort()).toEqual([applet, workflow, record].sort());
  expect((await callApi(second.url, `${removed}/describe`, {}, token)).status).toBe(404);
});

it('a data dir made before applets, workflows and executions existed gets their tables on start', async () => {
  const tmp = tempDir('ua-platform-exe-upgrade-');
  cleanups.push(tmp.cleanup);
  const first = await start(tmp.dir);
  const alice = first.admin.createUser('alice');
  const project = first.admin.createProject({ name: 'old', owner: alice });
  const { token } = first.admin.createToken({ user: alice });
  const record = (await callApi(first.url, 'record/new', { project, name: 'old-r' }, token)).body.id;
  await first.stop();
  // What an older server left: none of the new tables, and no record of their schema parts.
  const raw = openDb(tmp.dir);
  raw.exec(`DROP TABLE applets; DROP TABLE workflows; DROP TABLE executions; DROP TABLE execution_properties;
    DELETE FROM schema_parts WHERE name IN ('executables', 'executions')`);
  raw.close();

  const second = await start(tmp.dir);
  const listed = await callApi(second.url, `${project}/listFolder`, { folder: '/' }, token);
  expect(listed.body.objects).toEqual([{ id: record }]);
  const applet = (await callApi(second.url, 'applet/new', { project }, token)).body.id;
  const job = await callApi(second.url, `${applet}/run`, { input: {} }, token);
  expect(job.status, JSON.stringify(job.body)).toBe(200);
  expect((await callApi(second.url, 'system/findJobs', { project }, token)).body.results).toEqual([
    { id: job.body.id },
  ]);
});
