import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/plan/manifest.js';

const DOC = readFileSync(new URL('../../../docs/manifest.md', import.meta.url), 'utf8');

describe('docs/manifest.md', () => {
  it('its example parses, projects in sorted key order and entries in array order', () => {
    const example = /```json\n([\s\S]*?)```/.exec(DOC);
    expect(example, 'docs/manifest.md has a ```json example').not.toBeNull();
    expect(parseManifest(example![1], 'docs/manifest.md')).toEqual([
      {
        project: 'NovaSeq run 42',
        path: '/data/run42/SampleSheet.csv',
        folder: '/runs/42',
        name: 'SampleSheet-run42.csv',
      },
      {
        project: 'project-BQ7kX8j0ZK0XQq2p4Yk0Vb3v',
        path: 'run42/Sample1_R1.fastq.gz',
        folder: '/runs/42/fastq',
        name: 'Sample1_R1.fastq.gz',
      },
      {
        project: 'project-BQ7kX8j0ZK0XQq2p4Yk0Vb3v',
        path: 'run42/Sample1_R2.fastq.gz',
        folder: '/runs/42/fastq',
        name: 'Sample1_R2.fastq.gz',
      },
    ]);
  });

  it('documents every field an entry needs', () => {
    for (const field of ['path', 'folder', 'name']) expect(DOC).toContain(`| \`${field}\` | yes, a string |`);
  });
});
