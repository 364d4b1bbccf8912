/**
 * How fast ua-platform ingests part PUTs (MD5 checked, fsynced to disk).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/platform-ingest.js [--parts 16] [--part-mib 64] [--concurrency 4] [--json]
 *
 * Starts a platform in this process, creates one file and PUTs N parts of one reused random
 * buffer through real HTTP with undici, `concurrency` at a time. Client and server share this
 * process (and the machine's cores), so the CPU figure is both sides together.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { Agent, request } from 'undici';
import { startPlatform } from '../src/platform/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const parts = arg('parts', 16);
  const partMiB = arg('part-mib', 64);
  const concurrency = arg('concurrency', 4);
  const partSize = partMiB * 1024 * 1024;
  const buf = randomBytes(partSize);
  const md5 = createHash('md5').update(buf).digest('hex');

  const platform = await startPlatform({ quiet: true });
  const agent = new Agent({ connections: concurrency, bodyTimeout: 0, headersTimeout: 0 });
  try {
    const user = platform.admin.createUser('bench');
    const project = platform.admin.createProject({ name: 'bench', owner: user });
    const { token } = platform.admin.createToken({ user });
    const api = async (route: string, input: unknown) => {
      const res = await request(`${platform.url}/${route}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(input),
      });
      const body = (await res.body.json()) as Record<string, unknown>;
      if (res.statusCode !== 200) throw new Error(`${route}: ${res.statusCode} ${JSON.stringify(body)}`);
      return body;
    };
    const { id } = (await api('file/new', { project, name: 'bench.bin' })) as { id: string };

    let next = 1;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next <= parts) {
          const index = next++;
          const { url, headers } = (await api(`${id}/upload`, { index, size: partSize, md5 })) as {
            url: string;
            headers: Record<string, string>;
          };
          const res = await request(url, { method: 'PUT', dispatcher: agent, headers, body: buf });
          const text = await res.body.text();
          if (res.statusCode !== 200) throw new Error(`PUT part ${index}: ${res.statusCode} ${text}`);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const desc = await api(`${id}/describe`, {});
    const stored = Object.keys(desc.parts as object).length;
    if (stored !== parts) throw new Error(`only ${stored} of ${parts} parts recorded`);

    const mb = (parts * partSize) / 1e6;
    const cpuS = (cpu.user + cpu.system) / 1e6;
    // --json: one line for npm run bench (the same shape as bench/limits.ts prints).
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify({ bytes: parts * partSize, seconds, cpuS }));
      return;
    }
    console.log(`| parts × size | concurrency | seconds | MB/s | CPU s (user+sys, client+server) | cores |`);
    console.log(`|---|---|---|---|---|---|`);
    console.log(
      `| ${parts} × ${partMiB} MiB | ${concurrency} | ${seconds.toFixed(2)} | ${(mb / seconds).toFixed(0)} | ` +
        `${cpuS.toFixed(2)} (${(cpu.user / 1e6).toFixed(2)}+${(cpu.system / 1e6).toFixed(2)}) | ${cpus().length} |`,
    );
    console.log(
      `\nMD5 verified and fsync ${process.env.UA_PLATFORM_FSYNC === '0' ? 'OFF' : 'on'}; client and server share this process and its cores.`,
    );
  } finally {
    await agent.close();
    await platform.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
