/**
 * The status page's HTML, rendered on the server from the same data as /api/status (so the page,
 * the API and `ua daemon status --json` agree field for field). Every value goes through the
 * escaping template; state is shown by an icon and a word, colour only as a third signal. With
 * JavaScript off the page refreshes itself; with it, /static/app.js swaps the <main> fragment when
 * the server-sent events say something changed.
 */
import { formatBytes, formatDuration, formatRate } from '../../accounting/format.js';
import type { DaemonStatus, RunState, RunStatus } from '../ops/status.js';
import type { RunDetail } from './detail.js';
import { html, seg, type SafeHtml } from './html.js';

const ICON: Record<RunState, string> = {
  failed: '✗',
  stalled: '⚠',
  uploading: '↑',
  waiting: '…',
  complete: '✓',
};

export function stateBadge(state: string): SafeHtml {
  const icon = ICON[state as RunState] ?? '•';
  return html`<span class="state state-${state}"><span aria-hidden="true">${icon}</span> ${state}</span>`;
}

function eta(r: RunStatus): string {
  if (r.state === 'complete') return 'done';
  return r.eta_seconds === null ? '—' : formatDuration(r.eta_seconds * 1000);
}

export function layout(title: string, main: SafeHtml, o: { refreshSeconds?: number } = {}): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <link rel="stylesheet" href="/static/app.css" />
        <noscript><meta http-equiv="refresh" content="${o.refreshSeconds ?? 10}" /></noscript>
        <script src="/static/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <p class="brand"><a href="/">ua daemon</a></p>
          <p id="live" class="live" aria-live="polite">live updates off</p>
        </header>
        <main id="main" tabindex="-1">${main}</main>
      </body>
    </html> `.text;
}

export function runsFragment(s: DaemonStatus): SafeHtml {
  const d = s.daemon;
  const daemonLine = d.running
    ? html`<p class="daemon ok">
        Daemon running (pid ${d.pid}), uploading to ${d.project}; last heartbeat
        <time datetime="${d.heartbeat_at}">${d.heartbeat_at}</time>.
      </p>`
    : html`<p class="daemon bad">
        <span aria-hidden="true">⚠</span> Daemon not running (last heartbeat ${d.heartbeat_at ?? 'never'}).
      </p>`;
  const rows = s.runs.map(
    (r) =>
      html`<tr class="row-${r.state}">
        <td>${stateBadge(r.state)}</td>
        <th scope="row"><a href="/runs/${seg(r.name)}">${r.name}</a></th>
        <td class="num">${r.files.done} / ${r.files.total}</td>
        <td class="num">${formatBytes(r.bytes.done)} / ${formatBytes(r.bytes.total)}</td>
        <td class="num">${formatRate(r.rate)}</td>
        <td class="num">${eta(r)}</td>
        <td class="num">${formatDuration(r.age_seconds * 1000)}</td>
        <td class="err">${r.state === 'complete' ? '' : (r.last_error ?? '')}</td>
      </tr>`,
  );
  return html`<h1>Runs</h1>
    ${daemonLine}
    <table class="runs">
      <caption>
        ${s.runs.length} runs; failed and stalled first, then newest first
      </caption>
      <thead>
        <tr>
          <th scope="col">State</th>
          <th scope="col">Run</th>
          <th scope="col">Files</th>
          <th scope="col">Bytes</th>
          <th scope="col">Rate</th>
          <th scope="col">ETA</th>
          <th scope="col">Age</th>
          <th scope="col">Last error</th>
        </tr>
      </thead>
      <tbody>
        ${
          rows.length
            ? rows
            : html`<tr>
                <td colspan="8">
                  No runs yet: the daemon lists a run as soon as it finds one under a watch folder.
                </td>
              </tr>`
        }
      </tbody>
    </table>`;
}

/** The last 24 h as an SVG bar chart drawn here (no chart library, no script). */
function chart(d: RunDetail): SafeHtml {
  const bins = d.throughput.bytes;
  const max = Math.max(1, ...bins);
  const w = 4;
  const h = 60;
  const bars = bins.map((b, i) => {
    const bh = Math.round((b / max) * h);
    return html`<rect x="${i * w}" y="${h - bh}" width="${w - 1}" height="${bh}"></rect>`;
  });
  const total = bins.reduce((a, b) => a + b, 0);
  return html`<figure>
    <svg
      class="chart"
      viewBox="0 0 ${bins.length * w} ${h}"
      width="${bins.length * w * 2}"
      height="${h * 2}"
      role="img"
      aria-labelledby="chart-cap"
    >
      ${bars}
    </svg>
    <figcaption id="chart-cap">
      Bytes uploaded per ${d.throughput.binMinutes} minutes over the last 24 hours: ${formatBytes(total)} in
      all, at most ${formatBytes(max === 1 ? 0 : max)} in one bin.
    </figcaption>
  </figure>`;
}

function pager(d: RunDetail, name: string): SafeHtml {
  const f = d.files;
  if (f.pages <= 1) return html``;
  const link = (p: number, label: string) =>
    html`<a href="/runs/${seg(name)}?page=${p}${f.state ? `&state=${f.state}` : ''}">${label}</a>`;
  return html`<nav aria-label="File pages">
    <p>
      Page ${f.page} of ${f.pages} ${f.page > 1 ? link(f.page - 1, '← previous') : ''}
      ${f.page < f.pages ? link(f.page + 1, 'next →') : ''}
    </p>
  </nav>`;
}

export function runFragment(d: RunDetail): SafeHtml {
  const r = d.run;
  const files = d.files.items.map(
    (f) =>
      html`<tr>
        <th scope="row">${f.path}</th>
        <td>${f.state}</td>
        <td class="num">${formatBytes(f.size)}</td>
        <td class="num">${f.attempts}</td>
        <td>${f.file_id ?? ''}</td>
        <td class="err">${f.error ?? ''}</td>
      </tr>`,
  );
  const events = d.events.map(
    (e) =>
      html`<li class="ev-${e.level}">
        <time datetime="${e.at}">${e.at}</time> <strong>${e.kind}</strong> ${e.message}
      </li>`,
  );
  return html`<p><a href="/">← all runs</a></p>
    <h1>${r.name}</h1>
    <dl class="facts">
      <dt>State</dt>
      <dd>${stateBadge(r.state)}</dd>
      <dt>Run ID</dt>
      <dd>${r.run_id}</dd>
      <dt>Folder</dt>
      <dd>${r.dir}</dd>
      <dt>Files</dt>
      <dd>
        ${r.files.done} of ${r.files.total} uploaded${r.files.failing ? `, ${r.files.failing} failing` : ''}
      </dd>
      <dt>Bytes</dt>
      <dd>
        ${formatBytes(r.bytes.done)} of ${formatBytes(r.bytes.total)}, ${formatRate(r.rate)}, ETA ${eta(r)}
      </dd>
      <dt>Completion marker</dt>
      <dd>${r.marker ?? 'not yet'}</dd>
      <dt>Sentinel record</dt>
      <dd>${r.sentinel ? html`${r.sentinel} (closed)` : 'not yet'}</dd>
      <dt>Analysis</dt>
      <dd>${r.job ? html`${r.job}${d.job_state ? ` (${d.job_state})` : ''}` : 'not launched'}</dd>
      <dt>Last error</dt>
      <dd class="err">${r.last_error ?? 'none'}</dd>
    </dl>
    <h2>Throughput</h2>
    ${chart(d)}
    <h2 id="files">Files</h2>
    <table class="files">
      <caption>
        ${d.files.total} files${d.files.state ? ` in state ${d.files.state}` : ''}; failing first
      </caption>
      <thead>
        <tr>
          <th scope="col">Path</th>
          <th scope="col">State</th>
          <th scope="col">Size</th>
          <th scope="col">Attempts</th>
          <th scope="col">File ID</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        ${files}
      </tbody>
    </table>
    ${pager(d, r.name)}
    <h2>Events</h2>
    <ol class="events" reversed>
      ${events.length ? events : html`<li>none yet</li>`}
    </ol>`;
}

export function loginPage(failed: boolean): string {
  return layout(
    'Sign in — ua daemon',
    html`<h1>Sign in</h1>
      <p>This status page is protected by the daemon's <code>--http-token</code>.</p>
      ${failed ? html`<p class="err" role="alert">That token is not right.</p>` : ''}
      <form method="post" action="/login">
        <label for="token">Access token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>`,
  );
}
