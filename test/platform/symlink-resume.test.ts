/**
 * Describing an OPEN auto-symlinked file asks the container which parts really arrived: azurite's
 * uncommitted block list (by block ID and size), S3's ListParts (by number, size and ETag = MD5; s3rver
 * gets that route from the test harness) turn `pending` parts `complete`, so a resuming client re-sends
 * only the rest. Both end byte-exact once the missing parts are sent and the file is closed.
 */
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { waitClosed } from '../helpers/remote.js';
import {
  md5,
  putPart,
  randomBytes,
  splitParts,
  startSymlinkEnv,
  type SymlinkEnv,
} from './symlink-harness.js';

const PART = 5 * 1024 * 1024;
type PartStates = Record<string, { state: string; size: number; md5: string }>;

for (const cloud of ['azure', 'aws'] as const) {
  suite(`an open auto-symlinked file's parts, as described (${cloud})`, () => {
    let env: SymlinkEnv;
    beforeAll(async () => {
      env = await startSymlinkEnv(cloud);
    });
    afterAll(async () => {
      await env?.stop();
    });

    const describeParts = async (id: string): Promise<PartStates> => {
      const d = await env.tp.call(`${id}/describe`, { parts: true });
      expect(d.status).toBe(200);
      return d.body.parts as PartStates;
    };
    const foundParts = async (name: string): Promise<PartStates> => {
      const f = await env.tp.call('system/findDataObjects', {
        class: 'file',
        name,
        scope: { project: env.project },
        describe: { fields: { parts: true }, defaultFields: true },
      });
      expect(f.status).toBe(200);
      expect(f.body.results).toHaveLength(1);
      return f.body.results[0].describe.parts as PartStates;
    };
    const states = (p: PartStates) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.state]));

    it('parts PUT before a crash are reported as arrived where the cloud can tell; close ends byte-exact', async () => {
      const name = `resume-${cloud}.bin`;
      const data = randomBytes(3 * PART + 777);
      const parts = splitParts(data, PART);
      const n = await env.tp.call('file/new', { project: env.project, name, folder: '/' });
      expect(n.status).toBe(200);
      const id = n.body.id as string;
      await putPart(env.tp, id, 1, parts[0]);
      await putPart(env.tp, id, 2, parts[1]);
      // Part 3 declared (a URL handed out) but its PUT never happened: the client died.
      const u = await env.tp.call(`${id}/upload`, { index: 3, size: parts[2].length, md5: md5(parts[2]) });
      expect(u.status).toBe(200);

      const arrived = 'complete';
      const want = { '1': arrived, '2': arrived, '3': 'pending' };
      const described = await describeParts(id);
      expect(states(described)).toEqual(want);
      expect(described['1']).toEqual({ state: arrived, size: PART, md5: md5(parts[0]) });
      expect(states(await foundParts(name))).toEqual(want);
      // A plain describe without `parts` does not need the cloud and does not change what is recorded.
      const slim = await env.tp.call(`${id}/describe`, { fields: { state: true } });
      expect(slim.body).toEqual({ id, state: 'open' });

      // The rerun sends what is still missing, then closes.
      await putPart(env.tp, id, 3, parts[2]);
      await putPart(env.tp, id, 4, parts[3]);
      expect(states(await describeParts(id))).toEqual({ ...want, '3': arrived, '4': arrived });
      const c = await env.tp.call(`${id}/close`, {});
      expect(c.status).toBe(200);
      const d = await waitClosed(env.tp, id);
      expect(d.md5).toBe(md5(data));
      expect(states(await describeParts(id))).toEqual({
        '1': 'complete',
        '2': 'complete',
        '3': 'complete',
        '4': 'complete',
      });
      expect((await env.readObject(`incoming/${name}`)).equals(data)).toBe(true);
    });

    it('a part re-declared with other bytes after its PUT stays pending (size and MD5 must match)', async () => {
      const name = `redeclared-${cloud}.bin`;
      const first = randomBytes(PART);
      const n = await env.tp.call('file/new', { project: env.project, name, folder: '/' });
      const id = n.body.id as string;
      await putPart(env.tp, id, 1, first);
      const other = randomBytes(PART - 1);
      const u = await env.tp.call(`${id}/upload`, { index: 1, size: other.length, md5: md5(other) });
      expect(u.status).toBe(200);
      // The staged block/part is the first one: its size (and MD5) differ from what is declared now.
      expect(await describeParts(id)).toEqual({
        '1': { state: 'pending', size: other.length, md5: md5(other) },
      });
      await putPart(env.tp, id, 1, other);
      expect(states(await describeParts(id))).toEqual({ '1': 'complete' });
      expect((await env.tp.call(`${id}/close`, {})).status).toBe(200);
      expect((await waitClosed(env.tp, id)).md5).toBe(md5(other));
      expect((await env.readObject(`incoming/${name}`)).equals(other)).toBe(true);
    });
  });
}
