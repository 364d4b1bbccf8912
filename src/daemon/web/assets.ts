/**
 * The page's one stylesheet and one script, served from /static/ (the Content-Security-Policy
 * allows nothing inline). Colours meet WCAG AA contrast on white (checked by axe-core in the
 * browser test); states also carry an icon and a word.
 */
export const CSS = `
:root { --fg: #1b1f23; --muted: #4a5560; --bg: #fff; --line: #d0d7de; --link: #0645ad;
  --ok: #116329; --warn: #7a4a00; --bad: #a40e26; --run: #0a3069; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 1.5rem 2rem; }
a { color: var(--link); }
a:focus, button:focus, input:focus, main:focus { outline: 3px solid #0969da; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 0.5rem; background: #fff; padding: 0.25rem 0.5rem; }
header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 1px solid var(--line); }
.brand a { font-weight: 700; text-decoration: none; color: var(--fg); }
.live { color: var(--muted); font-size: 13px; }
h1 { font-size: 1.5rem; margin: 1rem 0 0.5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; color: var(--muted); padding: 0.25rem 0; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { border-bottom: 2px solid var(--fg); }
tbody th { font-weight: 500; word-break: break-all; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.err { color: var(--bad); max-width: 40ch; word-break: break-word; }
.state { font-weight: 700; white-space: nowrap; }
.state-complete { color: var(--ok); }
.state-uploading, .state-waiting { color: var(--run); }
.state-stalled { color: var(--warn); }
.state-failed { color: var(--bad); }
tr.row-failed { background: #fff0f0; }
tr.row-stalled { background: #fff8e5; }
.daemon.bad { color: var(--bad); font-weight: 700; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.facts dt { font-weight: 700; }
dl.facts dd { margin: 0; word-break: break-all; }
.chart rect { fill: #0a3069; }
figcaption { color: var(--muted); }
.events { padding-left: 1.5rem; }
.ev-error { color: var(--bad); }
.ev-warn { color: var(--warn); }
form { display: grid; gap: 0.5rem; max-width: 22rem; }
input, button { font: inherit; padding: 0.4rem; }
button { background: #0a3069; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
`;

/**
 * Live updates: the server sends an event whenever the status changes; the page then fetches its
 * own <main> fragment (rendered and escaped on the server) and swaps it in, keeping focus and
 * scroll. No framework, no build step.
 */
export const JS = `
(() => {
  const live = document.getElementById('live');
  if (!window.EventSource || !live) return;
  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      const url = new URL(location.href);
      url.searchParams.set('fragment', '1');
      const res = await fetch(url, { credentials: 'same-origin' });
      if (res.ok) {
        const main = document.getElementById('main');
        const y = window.scrollY;
        main.innerHTML = await res.text();
        window.scrollTo(0, y);
      }
    } finally {
      busy = false;
    }
  };
  const es = new EventSource('/events');
  es.addEventListener('open', () => { live.textContent = 'live'; });
  es.addEventListener('error', () => { live.textContent = 'reconnecting…'; });
  es.addEventListener('status', () => { void refresh(); });
})();
`;
