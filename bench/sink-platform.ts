/**
 * A measuring instrument, not a test double: the few platform API routes `ua` calls on its upload
 * path, answered from memory, with part PUT bodies read and thrown away (no hashing, no disk). Pointing
 * `ua` at it shows what the agent itself can do when the server costs nothing.
 *
 *   node dist/bench/sink-platform.js      → prints "listening on http://127.0.0.1:PORT"
 *
 * Accepts any bearer token. The project `project-…` printed on the second line has UPLOAD access.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newId } from '../src/common/ids.js';

const PROJECT = newId('project');
const UPLOAD_PARAMS = {
  minimumPartSize: 5 * 1024 * 1024,
  maximumPartSize: 5 * 1024 * 1024 * 1024,
  maximumFileSize: 5 * 1024 ** 4,
  maximumNumParts: 10_000,
  emptyLastPartAllowed: true,
};

interface SinkFile {
  parts: Record<string, { state: 'complete'; size: number; md5: string }>;
  closed: boolean;
}

const files = new Map<string, SinkFile>();
let base = '';
let partBytes = 0;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function api(route: string, input: Record<string, unknown>): [number, unknown] {
  const [subject, method] = route.split('/');
  const project = {
    id: PROJECT,
    name: 'sink',
    level: 'ADMINISTER',
    region: 'local',
    fileUploadParameters: UPLOAD_PARAMS,
  };
  if (subject === 'system') {
    if (method === 'greet') return [200, {}];
    if (method === 'whoami') return [200, { id: 'user-sink' }];
    if (method === 'findProjects') {
      const hit = input.name === PROJECT || input.name === 'sink';
      return [
        200,
        {
          results: hit ? [{ id: PROJECT, level: 'ADMINISTER', describe: { name: 'sink' } }] : [],
          next: null,
        },
      ];
    }
    if (method === 'findDataObjects') return [200, { results: [], next: null }];
  }
  if (subject === PROJECT && method === 'describe') return [200, project];
  if (subject === 'file' && method === 'new') {
    const id = newId('file');
    files.set(id, { parts: {}, closed: false });
    return [200, { id }];
  }
  const f = files.get(subject);
  if (f && method === 'upload') {
    const index = Number(input.index ?? 1);
    f.parts[index] = { state: 'complete', size: Number(input.size), md5: String(input.md5) };
    return [200, { url: `${base}/sink/${subject}/${index}`, expires: Date.now() + 900_000, headers: {} }];
  }
  if (f && method === 'close') {
    f.closed = true;
    return [200, { id: subject }];
  }
  if (f && method === 'describe')
    return [200, { id: subject, name: subject, state: f.closed ? 'closed' : 'open', parts: f.parts }];
  return [404, { error: { type: 'ResourceNotFound', message: `sink platform: no route /${route}` } }];
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const route = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0]);
  if (req.method === 'PUT' && route.startsWith('sink/')) {
    req.on('data', (d: Buffer) => (partBytes += d.length));
    req.on('end', () => reply(res, 200, {}));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    let input: Record<string, unknown> = {};
    try {
      input = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        : {};
    } catch {
      return reply(res, 400, { error: { type: 'InvalidInput', message: 'body is not JSON' } });
    }
    const [status, body] = api(route, input);
    reply(res, status, body);
  });
}

const server = createServer(handle);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.stdout.write(`listening on ${base}\n${PROJECT}\n`);
});
const stop = () => {
  process.stderr.write(`sink platform: ${files.size} files, ${partBytes} part bytes discarded\n`);
  server.close();
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
