/**
 * `--json`: one JSON object per event per line, for pipelines (`ua --json … | jq`). Each object is the
 * event itself (its `type` first) plus `time`, the ISO time it was written. Free-text fields go through
 * `scrubSecrets`. The high-frequency `part-progress` events are left out unless asked for. The summary
 * event is the last line of a run; file-done lines carry every file's result (ID or failure and why),
 * which is why stdout's plain result lines are not printed in this mode.
 */
import { type EventSink, type UaEvent, scrubSecrets } from './events.js';
import type { WritableText } from './plain-progress.js';
import { type Clock, systemClock } from './rate-window.js';

export interface JsonLinesOptions {
  /** Default process.stdout. */
  stream?: WritableText;
  clock?: Clock;
  /** Also write part-progress events (many per part). */
  includePartProgress?: boolean;
  /** Also write api-call events (-vv: one or more per part). */
  includeApiCalls?: boolean;
}

export type JsonLine = UaEvent & { time: string };

export class JsonLines {
  readonly sink: EventSink = (e) => this.write(e);
  private readonly stream: WritableText;
  private readonly clock: Clock;
  private readonly includePartProgress: boolean;
  private readonly includeApiCalls: boolean;
  private stopped = false;

  constructor(o: JsonLinesOptions = {}) {
    this.stream = o.stream ?? process.stdout;
    this.clock = o.clock ?? systemClock;
    this.includePartProgress = o.includePartProgress ?? false;
    this.includeApiCalls = o.includeApiCalls ?? false;
  }

  /** Nothing is buffered; later events are dropped. */
  stop(): void {
    this.stopped = true;
  }

  private write(e: UaEvent): void {
    if (this.stopped) return;
    if (e.type === 'part-progress' && !this.includePartProgress) return;
    if (e.type === 'api-call' && !this.includeApiCalls) return;
    this.stream.write(`${JSON.stringify(toJsonLine(e, this.clock.now()))}\n`);
  }
}

export function toJsonLine(e: UaEvent, nowMs: number): JsonLine {
  const { type, ...rest } = e;
  const line = { type, time: new Date(nowMs).toISOString(), ...rest } as JsonLine;
  if (line.type === 'file-done' && line.error !== undefined) line.error = scrubSecrets(line.error);
  if (line.type === 'part-retry' || line.type === 'api-retry') {
    line.reason = scrubSecrets(line.reason);
    if (line.body !== undefined) line.body = scrubSecrets(line.body);
  }
  if (line.type === 'warning') line.message = scrubSecrets(line.message);
  return line;
}
