/**
 * Prometheus metrics (prom-client) for /metrics. Gauges are set from the status when scraped, so
 * they agree with `ua daemon status` by construction; process metrics come from prom-client.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DaemonStatus } from './status.js';

export interface Metrics {
  contentType: string;
  render(s: DaemonStatus): Promise<string>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ua_daemon_' });
  const g = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const runs = g('ua_daemon_runs', 'Runs by state', ['state']);
  const files = g('ua_daemon_files', 'Files of runs not complete (done/total)', ['kind']);
  const bytes = g('ua_daemon_uploaded_bytes', 'Bytes uploaded, per run', ['run']);
  const rate = g('ua_daemon_rate_bytes_per_second', 'Upload rate over the last 5 minutes, all runs');
  const beat = g('ua_daemon_heartbeat_age_seconds', 'Seconds since the daemon loop last ran');
  const hostFiles = g('ua_daemon_host_uploaded_files', 'Files uploaded by each host of the queue', ['host']);
  const hostBytes = g('ua_daemon_host_uploaded_bytes', 'Bytes uploaded by each host of the queue', ['host']);
  const hostUp = g('ua_daemon_host_up', 'Whether each host of the queue is running (heartbeat recent)', [
    'host',
  ]);
  return {
    contentType: registry.contentType,
    async render(s) {
      runs.reset();
      for (const st of ['waiting', 'uploading', 'complete', 'stalled', 'failed']) runs.set({ state: st }, 0);
      bytes.reset();
      let done = 0;
      let total = 0;
      let r = 0;
      for (const run of s.runs) {
        runs.inc({ state: run.state });
        bytes.set({ run: run.name }, run.bytes.done);
        if (run.state !== 'complete') {
          done += run.files.done;
          total += run.files.total;
        }
        r += run.state === 'complete' ? 0 : run.rate;
      }
      files.set({ kind: 'done' }, done);
      files.set({ kind: 'total' }, total);
      rate.set(r);
      hostFiles.reset();
      hostBytes.reset();
      hostUp.reset();
      for (const h of s.hosts) {
        hostFiles.set({ host: h.id }, h.uploaded);
        hostBytes.set({ host: h.id }, h.bytes);
        hostUp.set({ host: h.id }, h.state === 'running' ? 1 : 0);
      }
      beat.set(s.daemon.heartbeat_at ? (Date.now() - Date.parse(s.daemon.heartbeat_at)) / 1000 : -1);
      return registry.metrics();
    },
  };
}
