/**
 * A loopback npm registry for the install test: the packages of package-lock.json, each version's
 * metadata taken from the lockfile and its tarball from the npm cache that `npm ci` filled
 * (cacache stores content by integrity: content-v2/<algo>/<hex[0..2]>/<hex[2..4]>/<rest>). So
 * `npm install -g <tgz>` resolves ua's dependency ranges as it would against the real registry, to
 * the locked versions, with no network. A tarball the cache lacks is a 404 that names it.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

interface LockEntry {
  name?: string;
  version?: string;
  integrity?: string;
  link?: boolean;
  [k: string]: unknown;
}

/** The lockfile fields that a registry's version document carries too. */
const COPIED = [
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'bin',
  'engines',
  'os',
  'cpu',
  'license',
  'hasInstallScript',
] as const;

export interface LocalRegistry {
  url: string;
  /** Tarballs asked for that the cache did not have (a failed install names them). */
  missing: string[];
  stop(): Promise<void>;
}

export function npmCacheDir(): string {
  const r = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm config get cache: ${r.stderr}`);
  return r.stdout.trim();
}

function contentPath(cache: string, integrity: string): string | undefined {
  for (const one of integrity.split(/\s+/)) {
    const m = /^(sha\d+)-(.+)$/.exec(one);
    if (!m) continue;
    const hex = Buffer.from(m[2], 'base64').toString('hex');
    const p = join(cache, '_cacache', 'content-v2', m[1], hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
    if (existsSync(p)) return p;
  }
  return undefined;
}

export async function startLocalRegistry(lockfile: string, cache = npmCacheDir()): Promise<LocalRegistry> {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as { packages: Record<string, LockEntry> };
  const byName = new Map<string, Map<string, LockEntry>>();
  const tarballs = new Map<string, { integrity: string; label: string }>();
  const keyOf = new Map<LockEntry, string>();
  for (const [path, e] of Object.entries(lock.packages)) {
    if (path === '' || e.link || !e.version || !e.integrity) continue;
    const name = e.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!byName.has(name)) byName.set(name, new Map());
    byName.get(name)!.set(e.version, e);
    keyOf.set(e, String(tarballs.size));
    tarballs.set(String(tarballs.size), { integrity: e.integrity, label: `${name}@${e.version}` });
  }
  const missing: string[] = [];
  let base = '';

  const packument = (name: string, versions: Map<string, LockEntry>) => {
    const docs: Record<string, unknown> = {};
    for (const [version, e] of versions) {
      const key = keyOf.get(e)!;
      const doc: Record<string, unknown> = { name, version };
      for (const f of COPIED) if (e[f] !== undefined) doc[f] = e[f];
      doc.dist = { tarball: `${base}/-/tarball/${key}.tgz`, integrity: e.integrity };
      docs[version] = doc;
    }
    const latest = [...versions.keys()].at(-1)!;
    return { name, 'dist-tags': { latest }, versions: docs };
  };

  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]).slice(1);
    const tar = /^-\/tarball\/(\d+)\.tgz$/.exec(path);
    if (tar) {
      const t = tarballs.get(tar[1]);
      const file = t && contentPath(cache, t.integrity);
      if (!file) {
        if (t) missing.push(t.label);
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    const versions = byName.get(path);
    if (!versions) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument(path, versions)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    missing,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
