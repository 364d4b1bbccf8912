/**
 * planTar: a tar batch planned as one remote file — never compressed, application/x-tar, parts over
 * the archive's size, and a signature that is the same for the same batch and differs for any other.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SIGNATURE_PROPERTY } from '../../../src/plan/signature.js';
import { planTar, tarMember, TAR_MEDIA, type TarBatchMember } from '../../../src/plan/tar-plan.js';
import { tempDir, writeRandomFile } from '../../helpers/files.js';

const tmp = tempDir('ua-tar-plan-');
afterAll(() => tmp.cleanup());

const MiB = 1024 * 1024;
const remote = { projectId: 'project-x', folder: '/RUN1/runs', name: 'run.RUN1.lane.all_000.tar' };
const paths = [0, 1, 2].map((i) => join(tmp.dir, `m${i}`));
paths.forEach((p, i) => writeRandomFile(p, 1000 * i));
const members = (): TarBatchMember[] => paths.map((p, i) => tarMember(p, `RUN1/m${i}`));

describe('planTar', () => {
  it('plans one uncompressed application/x-tar file of the archive size, parts cut at the chunk size', () => {
    const sf = planTar(
      members(),
      { ...remote, properties: { run_id: 'RUN1', [SIGNATURE_PROPERTY]: 'mine' } },
      {
        order: 7,
        chunkSize: 5 * MiB,
      },
    );
    const { plan } = sf;
    expect(sf.projectId).toBe('project-x');
    expect(plan.compress).toBe(false);
    expect(plan.media).toBe(TAR_MEDIA);
    expect(plan.remoteName).toBe(remote.name);
    expect(plan.entry).toMatchObject({
      order: 7,
      source: 'tar',
      folder: '/RUN1/runs',
      name: remote.name,
      localPath: `/RUN1/runs/${remote.name}`,
      size: 3 * 512 + 1024 + 2048 + 1024,
    });
    expect(plan.entry.tar?.files.map((f) => f.absPath)).toEqual(paths);
    expect(plan.entry.tar?.files[1].ino).toBe(statSync(paths[1]).ino);
    expect(plan.parts).toEqual([{ index: 1, offset: 0, length: plan.entry.size, last: true }]);
    expect(plan.properties).toEqual({ run_id: 'RUN1', [SIGNATURE_PROPERTY]: plan.signature });
    expect(plan.signature).toMatch(/^5632 \d+ 0 5242880 ua-tar-v1:[0-9a-f]{64}$/);
  });

  it('gives the same batch the same signature, and any other batch another', () => {
    const sig = (m = members(), r = remote, chunkSize = 5 * MiB) =>
      planTar(m, r, { chunkSize }).plan.signature;
    expect(sig()).toBe(sig());
    const change = (i: number, over: Partial<TarBatchMember>) =>
      members().map((m, j) => (j === i ? { ...m, ...over } : m));
    const others = [
      sig(change(1, { mtimeMs: members()[1].mtimeMs + 0.5 })), // sub-second: the header is the same, the file is not
      sig(change(2, { ino: (members()[2].ino ?? 0) + 1 })),
      sig(change(0, { name: 'RUN1/other' })),
      sig(change(0, { mode: 0o600 })),
      sig(members().slice(0, 2)),
      sig([...members()].reverse()),
      sig(members(), { ...remote, name: 'run.RUN1.lane.all_001.tar' }),
      sig(members(), { ...remote, folder: '/elsewhere' }),
      sig(members(), remote, 6 * MiB),
    ];
    expect(new Set([sig(), ...others]).size).toBe(others.length + 1);
    // Not part of a batch's identity: the device (it can change across a reboot) and the ctime.
    expect(sig(change(1, { dev: 12345, ctimeMs: 1 }))).toBe(sig());
  });
});
