/**
 * `ua --test`: the classic sections (ua-behavior §1.7) — version, API server, greet, current user,
 * current project, proxy settings (credentials masked), OS, CA bundle — but connectivity is tested
 * against the configured API server (not a search engine), and every `--project` (else the current
 * project) gets the refusal diagnosis.
 *
 * Exit code (differs from the classic agent, which exits 0 whatever it finds): 0 when the API server
 * answers, the token is good and an upload to every project checked would be allowed; 1 otherwise.
 */
import { release, type as osType, version as osVersion, machine } from 'node:os';
import type { ApiConfig } from '../config/env.js';
import { ApiCallError } from '../errors.js';
import { createHttpAgent } from '../transfer/http.js';
import { CLASSIC_VERSION, UA_VERSION } from '../version.js';
import { PlatformClient, type GreetReply } from '../transfer/platform/api.js';
import { proxyEnv, proxyLine } from '../transfer/proxy.js';
import { proxySettings } from './connection.js';
import {
  checkToken,
  diagnoseCallError,
  diagnoseProject,
  formatDiagnosis,
  type DiagnoseConfig,
} from './permission.js';

export interface TestReportInput {
  config: ApiConfig;
  /** `--project` values; none = the current project (if any). */
  projects: string[];
  /** The version block, as `--version` prints it. */
  versionBlock: string;
  out?: (s: string) => void;
  err?: (s: string) => void;
  env?: NodeJS.ProcessEnv;
}

function expiryText(expires: number | null | undefined): string {
  if (expires === undefined) return '';
  if (expires === null) return ', never expires';
  return `, expires ${new Date(expires).toISOString()}`;
}

export async function runTestReport(t: TestReportInput): Promise<number> {
  const out = t.out ?? ((s: string) => void process.stdout.write(s));
  const err = t.err ?? ((s: string) => void process.stderr.write(s));
  const env = t.env ?? process.env;
  const cfg = t.config;
  const diag: DiagnoseConfig = { ...cfg, env };
  const url = `${cfg.protocol}://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`;
  out(t.versionBlock);
  out(`Upload Agent v${UA_VERSION}, environment info:\n`);
  out(
    `  API server protocol: ${cfg.protocol}\n  API server host:     ${cfg.host}\n  API server port:     ${cfg.port}\n`,
  );
  const agent = createHttpAgent({ connections: 2, headersTimeoutMs: 10_000, env });
  const api = new PlatformClient({ server: cfg, token: cfg.token, agent });
  let ok = true;
  try {
    out('Testing connection:\n');
    try {
      const g = await api.call<GreetReply>(
        'system/greet',
        { client: 'dnanexus-upload-agent', version: CLASSIC_VERSION, platform: 'linux' },
        { attempts: 1, signal: AbortSignal.timeout(10_000) },
      );
      out(`  Successfully contacted the API server at ${url}\n`);
      out(
        g.update?.available
          ? `A new version is available: ${g.update.version}\n`
          : 'Your copy of Upload Agent is up to date.\n',
      );
      out('System Messages:\n\n');
      if (!g.messages?.length) out('  There are currently no system messages.\n');
      for (const m of g.messages ?? [])
        out(`Date: ${new Date(m.date).toString()}\nSubject: ${m.title}\n${m.body}\n\n`);
    } catch (e) {
      // A 401 still proves the server answers; the token step below explains it.
      if (e instanceof ApiCallError && e.status === 401)
        out(`  Contacted the API server at ${url} (it refused the token)\n`);
      else {
        ok = false;
        const d = diagnoseCallError(e, diag);
        out(`  Unable to contact the API server at ${url}\n`);
        out(`Error contacting the api: ${(e as Error).message}\n`);
        if (d) out(`${formatDiagnosis(d)}\n`);
      }
    }
    const token = await checkToken(api, diag);
    if ('diagnosis' in token) {
      ok = false;
      out(`Current User: unknown\n${formatDiagnosis(token.diagnosis)}\n`);
    } else {
      const tk = token.whoami.token;
      out(`Current User: ${token.whoami.id}\n`);
      if (tk) out(`  Token: ${tk.scope ? 'scoped' : 'full access'}${expiryText(tk.expires)}\n`);
    }
    out(await currentProject(api, cfg.projectContext));
    const specs = t.projects.length > 0 ? t.projects : cfg.projectContext ? [cfg.projectContext] : [];
    if ('whoami' in token && specs.length > 0) {
      out('Upload check:\n');
      for (const spec of [...new Set(specs)]) {
        const d = await diagnoseProject(api, diag, spec, undefined, token.whoami);
        if (d.kind !== 'ok') ok = false;
        out(
          `  ${spec}: ${d.kind === 'ok' ? 'upload allowed' : `upload refused (${d.kind})`}\n    ${formatDiagnosis(d).replace(/\n/g, '\n    ')}\n`,
        );
      }
    }
    out('Proxy Settings:\n');
    const proxies = proxySettings(env);
    if (proxies.length === 0) out('  No proxy set in environment.\n');
    for (const p of proxies) out(`  ${p.name}: ${p.value}\n`);
    if (proxies.some((p) => p.value.includes('****@')))
      out('  (credentials in proxy URLs are shown as ****)\n');
    // The one that applies to the API server (ua does not read all_proxy).
    out(`  ${proxyLine(proxyEnv(env), url, env)}\n`);
    out(
      `Operating System:\n  Name:    ${osType()}\n  Release: ${release()}\n  Version: ${osVersion()}\n  Machine: ${machine()}\n`,
    );
    out(`CA Certificate: ${cfg.caCert ?? "Node's bundled CA store"}\n`);
  } finally {
    await agent.close();
  }
  err(
    `\nWhat to do next: ${ok ? 'uploads should work with these settings.' : 'fix what the Diagnosis lines say, then run `ua --test` again.'}\n` +
      `Exit code: 0 = an upload would be allowed, 1 = it would be refused (the classic agent always exits 0).\n`,
  );
  return ok ? 0 : 1;
}

async function currentProject(api: PlatformClient, id: string | undefined): Promise<string> {
  if (!id) return 'Current Project: None\n';
  try {
    const d = await api.call<{ name: string }>(
      `${id}/describe`,
      { fields: { name: true } },
      { attempts: 1, signal: AbortSignal.timeout(10_000) },
    );
    return `Current Project: ${d.name} (${id})\n`;
  } catch (e) {
    return `Current Project:  (${id})${(e as Error).message}\n`;
  }
}
