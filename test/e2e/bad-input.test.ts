/**
 * Bad input, table-driven: each row is what a user typed, the exit code, the one line that says
 * what is wrong, and the check that nothing was left on the server. Never the whole help, never
 * the token, never a silent fallback to another token source.
 */
import { join } from 'node:path';
import { beforeAll, describe as suite, expect, it } from 'vitest';
import { writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { listFiles } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const e2e = usePlatformAndTempDir();
let file: string;
beforeAll(() => {
  file = join(e2e.tmp.dir, 'data.bin');
  writeRandomFile(file, 1000);
});

const POINTER = "Run 'ua --help' to list the options.";
type Row = [
  label: string,
  args: (project: string) => string[],
  env: Record<string, string>,
  code: number,
  line: RegExp,
];
const ctx = (token: string) => JSON.stringify({ auth_token_type: 'Bearer', auth_token: token });

const rows: Row[] = [
  [
    'unknown flag',
    (p) => ['--project', p, '--frobnicate', 'x'],
    {},
    1,
    /^Error processing arguments: unrecognised option '--frobnicate'$/,
  ],
  [
    'bad size unit',
    (p) => ['--project', p, '--chunk-size', '5X'],
    {},
    1,
    /^Error processing arguments: Invalid size argument: '5X'/,
  ],
  [
    'bad throttle',
    (p) => ['--project', p, '--throttle', 'fast'],
    {},
    1,
    /^Error processing arguments: Invalid size argument: 'fast'/,
  ],
  [
    'bad property',
    (p) => ['--project', p, '--property', 'novalue'],
    {},
    1,
    /^Error processing arguments: Invalid property argument/,
  ],
  [
    'bad details JSON',
    (p) => ['--project', p, '--details', '{bad'],
    {},
    1,
    /^Error processing arguments: Error formating Json Data/,
  ],
  [
    'chunk too small',
    (p) => ['--project', p, '--chunk-size', '1K'],
    {},
    1,
    /^ERROR: Minimum chunk size is 5242880/,
  ],
  [
    'zero tries',
    (p) => ['--project', p, '--tries', '0'],
    {},
    1,
    /^ERROR: Number of tries per chunk must be positive: 0$/,
  ],
  [
    'compress level 11',
    (p) => ['--project', p, '--compress-level', '11'],
    {},
    1,
    /^ERROR: Compression level must be an integer from 1 to 9: 11$/,
  ],
  [
    'compressor',
    (p) => ['--project', p, '--compressor', 'pigz'],
    {},
    1,
    /^ERROR: Invalid compressor 'pigz'; use 'libdeflate' or 'zlib'$/,
  ],
  [
    'zero threads',
    (p) => ['--project', p, '--upload-threads', '0'],
    {},
    1,
    /^ERROR: Number of upload threads must be positive: 0$/,
  ],
  [
    'visibility',
    (p) => ['--project', p, '--visibility', 'bogus'],
    {},
    1,
    /^ERROR: Invalid visibility 'bogus'; use 'visible' or 'hidden'$/,
  ],
  [
    'port out of range',
    (p) => ['--project', p, '--apiserver-port', '99999'],
    {},
    1,
    /^ERROR: Invalid --apiserver-port 99999; expected a port number from 1 to 65535$/,
  ],
  [
    'protocol',
    (p) => ['--project', p, '--apiserver-protocol', 'ftp'],
    {},
    1,
    /^ERROR: Invalid API server protocol 'ftp' \(--apiserver-protocol\); use http or https$/,
  ],
  [
    'host with a path',
    (p) => ['--project', p, '--apiserver-host', 'host/api'],
    {},
    1,
    /^ERROR: Invalid API server host 'host\/api'/,
  ],
  [
    'empty --auth-token, a good one in the environment',
    (p) => ['--project', p, '--auth-token', ''],
    {},
    1,
    /^ERROR: --auth-token is empty: give a token, or leave it out/,
  ],
  [
    'blank --auth-token',
    (p) => ['--project', p, '--auth-token', '   '],
    {},
    1,
    /^ERROR: --auth-token is empty/,
  ],
  [
    'token with a newline',
    (p) => ['--project', p, '--auth-token', 'abcd1234\n'],
    {},
    1,
    /^ERROR: the token from --auth-token contains a newline at character 9 of 9: /,
  ],
  [
    'token with a control character',
    (p) => ['--project', p, '--auth-token', 'ab\u0001cd'],
    {},
    1,
    /contains a control character \(0x01\) at character 3 of 5/,
  ],
  [
    'empty token in DX_SECURITY_CONTEXT',
    (p) => ['--project', p],
    { DX_SECURITY_CONTEXT: ctx('') },
    1,
    /^ERROR: the auth_token of DX_SECURITY_CONTEXT \(from the environment\) is empty/,
  ],
  [
    'token with a tab in DX_SECURITY_CONTEXT',
    (p) => ['--project', p],
    { DX_SECURITY_CONTEXT: ctx('abc\tdef') },
    1,
    /contains a tab at character 4 of 7/,
  ],
  [
    'unknown project',
    () => ['--project', 'project-000000000000000000000000'],
    {},
    1,
    /does not represent a valid project name or ID/,
  ],
];

suite('bad input: one clear line, exit code, nothing left on the server', () => {
  it.each(rows)('%s', async (_label, args, env, code, line) => {
    const before = (await listFiles(e2e.tp)).length;
    const r = await runUa([...args(e2e.tp.project), file], { env: { ...e2e.tp.env, ...env } });
    expect(r.code, r.stderr).toBe(code);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(line);
    if (lines[0].startsWith('Error processing arguments:')) expect(lines.slice(1)).toEqual([POINTER]);
    expect(r.stderr).not.toContain('Available options');
    expect(r.stderr).not.toContain(e2e.tp.token);
    expect(r.stdout).toBe('');
    expect((await listFiles(e2e.tp)).length).toBe(before);
  });
});
