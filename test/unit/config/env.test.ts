import { UsageError } from '../../../src/errors.js';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactToken, resolveApiConfig } from '../../../src/config/env.js';
import { tempDir } from '../../helpers/files.js';

const ctx = (token: string) => JSON.stringify({ auth_token_type: 'Bearer', auth_token: token });

let home: { dir: string; cleanup(): void };
let cfg: string;
beforeEach(() => {
  home = tempDir('ua-env-');
  cfg = join(home.dir, '.dnanexus_config');
  mkdirSync(cfg);
});
afterEach(() => home.cleanup());

function writeJson(obj: unknown, mode = 0o600): string {
  const p = join(cfg, 'environment.json');
  writeFileSync(p, JSON.stringify(obj));
  chmodSync(p, mode);
  return p;
}
function writeShell(text: string, mode = 0o600): string {
  const p = join(cfg, 'environment');
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

describe('resolveApiConfig', () => {
  it('defaults to https://api.dnanexus.com:443 with no token', () => {
    const c = resolveApiConfig({ env: {}, home: home.dir });
    expect(c).toMatchObject({
      protocol: 'https',
      host: 'api.dnanexus.com',
      port: 443,
      tokenSource: 'none',
      configWarnings: [],
    });
    expect(c.token).toBeUndefined();
    expect(c.projectContext).toBeUndefined();
    expect(c.looked).toEqual([
      '--auth-token',
      'DX_SECURITY_CONTEXT environment variable',
      `${join(cfg, 'environment.json')} (DX_SECURITY_CONTEXT)`,
      `${join(cfg, 'environment')} (DX_SECURITY_CONTEXT)`,
    ]);
  });

  it('takes each key from env, then environment.json, then environment', () => {
    writeJson({
      DX_APISERVER_HOST: 'json-host',
      DX_APISERVER_PORT: 8124,
      DX_SECURITY_CONTEXT: ctx('json-token'),
    });
    writeShell(
      [
        "export DX_APISERVER_HOST='shell-host'",
        "export DX_APISERVER_PROTOCOL='http'",
        "export DX_PROJECT_CONTEXT_ID='project-shell'",
        `export DX_SECURITY_CONTEXT='${ctx('shell-token')}'`,
        "export DX_CA_CERT='/etc/ca.pem'",
      ].join('\n'),
    );
    const c = resolveApiConfig({ env: { DX_APISERVER_HOST: 'env-host' }, home: home.dir });
    expect(c.host).toBe('env-host');
    expect(c.port).toBe(8124);
    expect(c.protocol).toBe('http');
    expect(c.token).toBe('json-token');
    expect(c.tokenSource).toBe('config-file');
    expect(c.projectContext).toBe('project-shell');
    expect(c.caCert).toBe('/etc/ca.pem');
    expect(c.configWarnings).toEqual([]);
  });

  it('an env token beats the files; --auth-token and --apiserver-* beat everything', () => {
    writeJson({ DX_SECURITY_CONTEXT: ctx('json-token'), DX_APISERVER_PORT: '1' });
    const env = { DX_SECURITY_CONTEXT: ctx('env-token') };
    const fromEnv = resolveApiConfig({ env, home: home.dir });
    expect(fromEnv.token).toBe('env-token');
    expect(fromEnv.tokenSource).toBe('env');
    const fromFlag = resolveApiConfig({
      env,
      home: home.dir,
      cli: {
        authToken: 'flag-token',
        apiserverHost: '127.0.0.1',
        apiserverPort: 9000,
        apiserverProtocol: 'http',
        certificateFile: 'NOVERIFY',
      },
    });
    expect(fromFlag).toMatchObject({
      token: 'flag-token',
      tokenSource: 'flag',
      host: '127.0.0.1',
      port: 9000,
      protocol: 'http',
      caCert: 'NOVERIFY',
    });
  });

  it('in a job the current project is DX_WORKSPACE_ID, otherwise DX_PROJECT_CONTEXT_ID', () => {
    const env = { DX_PROJECT_CONTEXT_ID: 'project-ctx', DX_WORKSPACE_ID: 'container-ws' };
    expect(resolveApiConfig({ env, home: home.dir }).projectContext).toBe('project-ctx');
    expect(resolveApiConfig({ env: { ...env, DX_JOB_ID: 'job-1' }, home: home.dir }).projectContext).toBe(
      'container-ws',
    );
  });

  it('ignores the whole environment.json with a WARNING when a value is not a string or an integer', () => {
    const p = writeJson({
      DX_APISERVER_HOST: 'json-host',
      DX_SECURITY_CONTEXT: ctx('json-token'),
      DX_USERNAME: null,
    });
    writeShell("export DX_APISERVER_HOST='shell-host'\n");
    const c = resolveApiConfig({ env: {}, home: home.dir });
    expect(c.host).toBe('shell-host');
    expect(c.token).toBeUndefined();
    expect(c.configWarnings).toEqual([
      `WARNING: ignoring ${p}: the value of 'DX_USERNAME' is not a string or an integer`,
    ]);
    writeJson({ DX_APISERVER_PORT: 1.5 });
    expect(resolveApiConfig({ env: {}, home: home.dir }).configWarnings[0]).toMatch(
      /the value of 'DX_APISERVER_PORT' is not a string or an integer/,
    );
  });

  it('warns about an unparsable environment.json and a malformed security context, never showing the token', () => {
    writeFileSync(join(cfg, 'environment.json'), '{not json');
    writeShell(`export DX_SECURITY_CONTEXT='{"auth_token": 42, "secret": "s3cr3t-value"}'\n`);
    const c = resolveApiConfig({ env: {}, home: home.dir });
    expect(c.token).toBeUndefined();
    expect(c.configWarnings).toHaveLength(2);
    expect(c.configWarnings[0]).toMatch(/^WARNING: ignoring .*environment\.json: not valid JSON/);
    expect(c.configWarnings[1]).toBe(
      `WARNING: DX_SECURITY_CONTEXT from ${join(cfg, 'environment')} is not a valid security context; ignored`,
    );
    expect(c.configWarnings.join('\n')).not.toContain('s3cr3t');
  });

  it('warns when a file holding a token is readable by group or others (without the token)', () => {
    const p = writeShell(`export DX_SECURITY_CONTEXT='${ctx('loose-token-123')}'\n`, 0o644);
    const c = resolveApiConfig({ env: {}, home: home.dir });
    expect(c.token).toBe('loose-token-123');
    expect(c.configWarnings).toEqual([
      `WARNING: ${p} holds an auth token and can be read by other users; run: chmod 600 ${p}`,
    ]);
    chmodSync(p, 0o600);
    expect(resolveApiConfig({ env: {}, home: home.dir }).configWarnings).toEqual([]);
    writeShell("export DX_APISERVER_HOST='h'\n", 0o644); // no token: nothing to protect
    expect(resolveApiConfig({ env: {}, home: home.dir }).configWarnings).toEqual([]);
  });

  it('reads shell quoting: single quotes with escapes, double quotes, bare values, no export', () => {
    writeShell(
      [
        "export DX_APISERVER_HOST='it'\\''s'",
        'DX_APISERVER_PROTOCOL="http"',
        'export DX_APISERVER_PORT=8080',
        '# comment',
        'junk line',
      ].join('\n'),
    );
    const c = resolveApiConfig({ env: {}, home: home.dir });
    expect(c).toMatchObject({ host: "it's", protocol: 'http', port: 8080 });
  });

  it('rejects a port that is not a number', () => {
    expect(() => resolveApiConfig({ env: { DX_APISERVER_PORT: 'eighty' }, home: home.dir })).toThrow(
      UsageError,
    );
  });
});

describe('redactToken', () => {
  it('keeps the first four characters only', () => {
    expect(redactToken('abcdefghijkl')).toBe('abcd…');
    expect(redactToken('ab')).toBe('ab…');
    expect(redactToken(undefined)).toBe('');
  });
});
