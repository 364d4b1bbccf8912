/**
 * `ua-platform drive new|list|update`, `project list`, `file list PROJECT` and `token list`: the
 * operator's view of a data dir, registered into cli.ts's yargs. Lists print a header and aligned
 * columns, or with `--json` one object per line. No secret is ever printed: drives show their cloud,
 * endpoint and owner, never credentials; tokens show their ID, their first 4 characters and their
 * expiry. Drive credentials are read from a JSON file or the environment, never from argv (`ps`).
 */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { openAdmin, type PlatformAdmin } from './admin.js';

export class ListError extends Error {}

type Run = () => Promise<void> | void;
type SetRun = (run: Run) => void;
type DataDirOf = (a: { data?: string }) => string;

/** An admin action whose answer goes to stdout as it is (lines, newline-terminated). */
function withAdmin(
  dataDirOf: DataDirOf,
  a: { data?: string },
  fn: (admin: PlatformAdmin) => Promise<string> | string,
): Run {
  return async () => {
    const admin = openAdmin(dataDirOf(a));
    try {
      const out = await fn(admin);
      process.stdout.write(out === '' ? '' : `${out}\n`);
    } finally {
      admin.close();
    }
  };
}

/** A header and aligned columns (two spaces apart), or one JSON object per row. */
export function table<T extends object>(
  rows: T[],
  cols: Array<[string, (r: T) => string]>,
  json: boolean,
): string {
  if (json) return rows.map((r) => JSON.stringify(r)).join('\n');
  const cells = [cols.map(([h]) => h), ...rows.map((r) => cols.map(([, f]) => f(r)))];
  const widths = cols.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  return cells
    .map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]))).join('  '))
    .join('\n');
}

const iso = (t: number | null) =>
  t === null ? 'never' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Drive credentials: `--credentials-file` (JSON), else the cloud's usual environment variables. */
function credentials(cloud: string, file: string | undefined, env = process.env): Record<string, unknown> {
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ListError(`--credentials-file ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new ListError(`--credentials-file ${file}: expected a JSON object`);
    return parsed as Record<string, unknown>;
  }
  if (cloud === 'aws') {
    if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY)
      throw new ListError(
        'an aws drive needs --credentials-file, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set',
      );
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
  }
  if (cloud === 'azure') {
    if (!env.AZURE_STORAGE_ACCOUNT || !env.AZURE_STORAGE_KEY)
      throw new ListError(
        'an azure drive needs --credentials-file, or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY set',
      );
    return { account: env.AZURE_STORAGE_ACCOUNT, key: env.AZURE_STORAGE_KEY };
  }
  return {}; // the admin refuses the cloud with its own message
}

const jsonOption = { type: 'boolean', describe: 'one JSON object per line' } as const;

export function driveCommands(
  y: Argv<{ data: string | undefined }>,
  setRun: SetRun,
  dataDirOf: DataDirOf,
): Argv {
  return y
    .command(
      'new <name>',
      'register a drive (a bucket account) for auto-symlink projects; prints its ID',
      (y2) =>
        y2
          .positional('name', { type: 'string', demandOption: true })
          .option('owner', { type: 'string', demandOption: true, describe: 'user ID or handle' })
          .option('cloud', { type: 'string', demandOption: true, describe: 'aws or azure' })
          .option('endpoint', { type: 'string', describe: 'the service URL (S3-compatible or Azure blob)' })
          .option('region', { type: 'string' })
          .option('credentials-file', {
            type: 'string',
            describe:
              'JSON {"accessKeyId","secretAccessKey"} (aws) or {"account","key"} (azure); default: AWS_* or AZURE_STORAGE_* variables',
          })
          .option('check', {
            type: 'boolean',
            default: true,
            describe: 'check the credentials against the cloud first (--no-check: do not)',
          }),
      (a) =>
        setRun(
          withAdmin(dataDirOf, a, (admin) =>
            admin.createDrive({
              name: a.name,
              owner: a.owner,
              cloud: a.cloud,
              credentials: credentials(a.cloud, a['credentials-file']),
              endpoint: a.endpoint,
              region: a.region,
              noCheck: !a.check,
            }),
          ),
        ),
    )
    .command(
      'list',
      'list drives (never their credentials)',
      (y2) => y2.option('json', jsonOption),
      (a) =>
        setRun(
          withAdmin(dataDirOf, a, (admin) =>
            table(
              admin.listDrives(),
              [
                ['ID', (d) => d.id],
                ['NAME', (d) => d.name],
                ['CLOUD', (d) => d.cloud],
                ['ENDPOINT', (d) => d.endpoint ?? '-'],
                ['REGION', (d) => d.region ?? '-'],
                ['OWNER', (d) => d.owner],
                ['STATE', (d) => (d.disabled ? 'disabled' : 'active')],
              ],
              a.json === true,
            ),
          ),
        ),
    )
    .command(
      'update <drive>',
      'rename a drive, rotate its credentials (checked first), or disable/enable it; prints its ID',
      (y2) =>
        y2
          .positional('drive', { type: 'string', demandOption: true })
          .option('name', { type: 'string' })
          .option('credentials-file', { type: 'string', describe: 'new credentials, as for drive new' })
          .option('credentials-from-env', {
            type: 'boolean',
            describe: 'new credentials from the AWS_* or AZURE_STORAGE_* variables',
          })
          .option('disable', { type: 'boolean' })
          .option('enable', { type: 'boolean' })
          .option('check', {
            type: 'boolean',
            default: true,
            describe: 'check new credentials against the cloud first (--no-check: do not)',
          }),
      (a) =>
        setRun(
          withAdmin(dataDirOf, a, async (admin) => {
            if (a.disable && a.enable) throw new ListError('--disable and --enable contradict each other');
            const drive = admin.listDrives().find((d) => d.id === a.drive);
            const rotate = a['credentials-file'] !== undefined || a['credentials-from-env'];
            const patch = {
              name: a.name,
              disabled: a.disable ? true : a.enable ? false : undefined,
              credentials: rotate && drive ? credentials(drive.cloud, a['credentials-file']) : undefined,
              noCheck: !a.check,
            };
            if (patch.name === undefined && patch.disabled === undefined && !rotate)
              throw new ListError(
                'nothing to update: give --name, --credentials-file, --credentials-from-env, --disable or --enable',
              );
            await admin.updateDrive(a.drive, patch);
            return a.drive;
          }),
        ),
    )
    .demandCommand(1);
}

/** `project list`, as a command module for cli.ts's `project` group. */
export function projectListCommand(setRun: SetRun, dataDirOf: DataDirOf) {
  return {
    command: 'list',
    describe: 'list projects',
    builder: (y2: Argv) =>
      y2
        .option('user', { type: 'string', describe: 'only projects this user is a member of' })
        .option('json', jsonOption),
    handler: (a: { data?: string; user?: string; json?: boolean }) =>
      setRun(
        withAdmin(dataDirOf, a, (admin) =>
          table(
            admin.listProjects(a.user),
            [
              ['ID', (p) => p.id],
              ['NAME', (p) => p.name],
              ['REGION', (p) => p.region],
              ['CREATED BY', (p) => p.createdBy],
              ['MEMBERS', (p) => String(p.members)],
              ['FILES', (p) => String(p.files)],
              ['DRIVE', (p) => p.drive ?? '-'],
            ],
            a.json === true,
          ),
        ),
      ),
  };
}

export function fileCommands(
  y: Argv<{ data: string | undefined }>,
  setRun: SetRun,
  dataDirOf: DataDirOf,
): Argv {
  return y
    .command(
      'list <project>',
      "list a project's files (open ones too), with their state and the parts received",
      (y2) =>
        y2
          .positional('project', { type: 'string', demandOption: true })
          .option('folder', { type: 'string', describe: 'only this folder and below (default /)' })
          .option('json', jsonOption),
      (a) =>
        setRun(
          withAdmin(dataDirOf, a, (admin) =>
            table(
              admin.listFiles(a.project, a.folder),
              [
                ['ID', (f) => f.id],
                ['STATE', (f) => f.state],
                ['SIZE', (f) => (f.size === null ? '-' : String(f.size))],
                ['PARTS', (f) => String(f.parts)],
                [
                  'PATH',
                  (f) =>
                    `${f.folder.endsWith('/') ? f.folder : `${f.folder}/`}${f.name}${f.hidden ? ' (hidden)' : ''}`,
                ],
              ],
              a.json === true,
            ),
          ),
        ),
    )
    .demandCommand(1);
}

/** `token list`, as a command module for cli.ts's `token` group. */
export function tokenListCommand(setRun: SetRun, dataDirOf: DataDirOf) {
  return {
    command: 'list',
    describe: 'list tokens: ID, user, first 4 characters, expiry, state (never the token)',
    builder: (y2: Argv) =>
      y2.option('user', { type: 'string', describe: "only this user's tokens" }).option('json', jsonOption),
    handler: (a: { data?: string; user?: string; json?: boolean }) =>
      setRun(
        withAdmin(dataDirOf, a, (admin) => {
          const now = Date.now();
          // Four characters, as ua shows a token anywhere (the stored prefix is longer).
          const rows = admin.listTokens(a.user).map((t) => ({
            id: t.id,
            user: t.user,
            prefix: `${t.prefix.slice(0, 4)}…`,
            created: iso(t.created),
            expires: iso(t.expires),
            state: t.revoked ? 'revoked' : t.expires !== null && t.expires <= now ? 'expired' : 'active',
            scope: scopeText(t.scope),
          }));
          return table(
            rows,
            [
              ['ID', (t) => t.id],
              ['USER', (t) => t.user],
              ['TOKEN', (t) => t.prefix],
              ['EXPIRES', (t) => t.expires],
              ['STATE', (t) => t.state],
              ['SCOPE', (t) => t.scope],
            ],
            a.json === true,
          );
        }),
      ),
  };
}

/** `all` for an unscoped token, else `project-…:LEVEL,…`. */
function scopeText(scope: string | null): string {
  if (scope === null) return 'all';
  const { projects } = JSON.parse(scope) as { projects: Record<string, string> };
  return Object.entries(projects)
    .map(([p, l]) => `${p}:${l}`)
    .join(',');
}
