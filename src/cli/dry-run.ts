/**
 * `ua --dry-run …`: prints the plan (plan/preview.ts) and makes nothing. stdout has one line per
 * input, in input order — `local → project-…:/folder/name  size  parts  resume state` — or with
 * `--json` one `plan-file` object per line; a summary line ends the plan (stderr as text, stdout as
 * a `plan-summary` object). Exit codes as a real run's: 1 for bad input or a refused project, 3 when
 * the API server or the token is unusable.
 */
import { formatBytes } from '../accounting/format.js';
import type { ApiConfig } from '../config/env.js';
import type { UaOptions } from '../config/options.js';
import { diagnoseConfigOf, refusalText, resolveAllExplained } from '../diagnose/refusal.js';
import { ApiCallError, ConnectionError, RunError, UaError, UsageError } from '../errors.js';
import { tlsOptions } from '../index.js';
import { expandInputs } from '../plan/inputs.js';
import { preview, type PreviewFile } from '../plan/preview.js';
import { createHttpAgent } from '../transfer/http.js';
import { PlatformClient } from '../transfer/platform/api.js';
import { errorLine } from './output.js';

export interface DryRunRequest {
  options: UaOptions;
  positionals: string[];
  config: ApiConfig;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export async function dryRun(req: DryRunRequest): Promise<number> {
  const { options: o, config: cfg } = req;
  const out = req.out ?? process.stdout;
  const err = req.err ?? process.stderr;
  let entries;
  try {
    entries = expandInputs(req.positionals, o, cfg.projectContext, {
      onWarning: (m) => o.verbose && err.write(`${m}\n`),
    });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    errorLine(e.message, err);
    return 1;
  }
  let tls;
  try {
    tls = tlsOptions(cfg.caCert);
  } catch (e) {
    if (!(e instanceof UaError)) throw e;
    errorLine(e.message, err);
    return 1;
  }
  const agent = createHttpAgent({ connections: 2, ...tls, env: process.env });
  const api = new PlatformClient({ server: cfg, token: cfg.token, agent });
  const signal = new AbortController().signal;
  try {
    const { resolved, refusals } = await resolveAllExplained(
      api,
      entries.map((e) => e.projectSpec),
      diagnoseConfigOf(cfg, cfg),
      signal,
    );
    if (refusals.length > 0) {
      errorLine(refusalText(refusals), err);
      return unusable(refusals[0].error) ? 3 : 1;
    }
    const files = await preview(api, entries, resolved, o, signal);
    for (const f of files) out.write(`${o.json ? JSON.stringify(jsonLine(f)) : textLine(f)}\n`);
    const s = summary(files);
    if (o.json) out.write(`${JSON.stringify({ type: 'plan-summary', ...s })}\n`);
    else err.write(`${summaryLine(s)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof UaError)) throw e;
    errorLine(e.message, err);
    if (e instanceof RunError) return e.exitCode;
    return unusable(e) ? 3 : 1;
  } finally {
    await agent.close();
  }
}

/** The server or the token cannot be used at all (a real run exits 3 for these). */
function unusable(e: UaError): boolean {
  return e instanceof ConnectionError || (e instanceof ApiCallError && e.status === 401);
}

const remote = (f: PreviewFile) => {
  const folder = f.entry.folder.endsWith('/') ? f.entry.folder : `${f.entry.folder}/`;
  const name = f.plan ? f.plan.remoteName : f.entry.name;
  return `${f.projectId}:${folder}${name}`;
};

function resumeText(f: PreviewFile): string {
  const r = f.resume;
  const n = f.plan?.parts.length ?? 0;
  switch (r.state) {
    case 'new':
      return 'new';
    case 'not-looked-up':
      return 'new (--do-not-resume)';
    case 'stdin':
      return 'new (stdin)';
    case 'closed':
      return `already uploaded as ${r.fileId} (${r.remoteName}): not sent again`;
    case 'open': {
      const pct = f.entry.size > 0 ? Math.floor((100 * r.bytesOnServer) / f.entry.size) : 0;
      return `resumes ${r.fileId} at ${pct}%: ${r.partsOnServer} of ${n} parts on the server (each checked before it is skipped)`;
    }
  }
}

function textLine(f: PreviewFile): string {
  const local = f.entry.stdin ? '<stdin>' : f.entry.localPath;
  if (!f.plan)
    return `${local} → ${remote(f)}[.gz unless already compressed]  size unknown  parts cut as read  ${resumeText(f)}`;
  const p = f.plan;
  const parts = `${p.parts.length} ${p.parts.length === 1 ? 'part' : 'parts'} of ${formatBytes(p.chunkSize)}`;
  const how = p.compress ? 'gzip' : 'as is';
  return `${local} → ${remote(f)}  ${formatBytes(f.entry.size)}  ${parts}, ${how}  ${resumeText(f)}`;
}

function jsonLine(f: PreviewFile) {
  const p = f.plan;
  return {
    type: 'plan-file',
    order: f.entry.order,
    path: f.entry.stdin ? null : f.entry.localPath,
    project: f.projectId,
    projectSpec: f.entry.projectSpec,
    folder: f.entry.folder,
    name: p ? p.remoteName : f.entry.name,
    remote: remote(f),
    size: f.entry.stdin ? null : f.entry.size,
    compress: p ? p.compress : null,
    chunkSize: p ? p.chunkSize : null,
    parts: p ? p.parts.length : null,
    resume: f.resume,
  };
}

interface Summary {
  files: number;
  bytes: number;
  new: number;
  resume: number;
  closed: number;
  partsOnServer: number;
  partsToSend: number;
  created: 0;
}

function summary(files: PreviewFile[]): Summary {
  const s: Summary = {
    files: files.length,
    bytes: 0,
    new: 0,
    resume: 0,
    closed: 0,
    partsOnServer: 0,
    partsToSend: 0,
    created: 0,
  };
  for (const f of files) {
    s.bytes += f.entry.stdin ? 0 : f.entry.size;
    const n = f.plan?.parts.length ?? 0;
    if (f.resume.state === 'closed') s.closed++;
    else if (f.resume.state === 'open') {
      s.resume++;
      s.partsOnServer += f.resume.partsOnServer;
      s.partsToSend += n - f.resume.partsOnServer;
    } else {
      s.new++;
      s.partsToSend += n;
    }
  }
  return s;
}

function summaryLine(s: Summary): string {
  return (
    `dry run: ${s.files} ${s.files === 1 ? 'file' : 'files'}, ${formatBytes(s.bytes)}; ${s.new} new, ` +
    `${s.resume} to resume (${s.partsOnServer} parts already on the server), ${s.closed} already uploaded; ` +
    `${s.partsToSend} parts to send; nothing was created`
  );
}
