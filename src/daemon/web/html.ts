/**
 * HTML built by a tagged template that escapes every interpolated value (run and file names come
 * from disk, errors from servers): only values already marked safe — other templates' output — pass
 * through as they are. There is no other way to put text into a page.
 */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

type Value = SafeHtml | string | number | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined) return '';
  if (v instanceof SafeHtml) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** A URL path segment (a run name in /runs/<name>). */
export const seg = (s: string): string => encodeURIComponent(s);
