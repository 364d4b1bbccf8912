/**
 * The destination router: which destination each project's files go to, the platform (the
 * default) or straight into the project's auto-symlink container (direct mode), decided once per
 * project.
 *
 * Direct mode is used for a project when
 * - `--direct` is given (or UA_DIRECT=1): then every project must auto-symlink and the user must have
 *   credentials for its cloud, else the run stops with a message saying what is missing; or
 * - automatically, when the project auto-symlinks (describe shows `defaultSymlink`), its drive can be
 *   described, and credentials for the drive's cloud are in the environment (AWS_ACCESS_KEY_ID +
 *   AWS_SECRET_ACCESS_KEY or AWS_PROFILE; AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT +
 *   AZURE_STORAGE_KEY, or AZURE_STORAGE_SAS_TOKEN). UA_DIRECT=0 turns the automatic choice off.
 * The bucket/container and prefix come from the project's defaultSymlink, the cloud, endpoint and
 * region from the drive's describe; credentials only ever from the user's environment (or, with
 * --direct on AWS, the SDK's whole default chain), never from the platform.
 */
import type { UaOptions } from '../config/options.js';
import { UaError } from '../errors.js';
import type { FilePlan } from '../plan/plan.js';
import type { OpenedJournal } from '../state/journal.js';
import type { Compressor } from '../work/compressors.js';
import type { PartPool } from '../work/pool.js';
import { azureCredentialsFromEnv } from './azure/credentials.js';
import type { Destination, DestinationCapabilities, Prepared } from './destination.js';
import type { BodyThrottle, CloudTarget } from './direct/cloud.js';
import { DirectDestination, type DirectProject } from './direct/destination.js';
import type { PlatformClient, ProjectDescription } from './platform/api.js';
import { proxyEnv } from './proxy.js';

export interface RouterOptions {
  options: Pick<UaOptions, 'direct' | 'doNotResume' | 'tries' | 'compressLevel'>;
  api: PlatformClient;
  /** Where files of non-direct projects go. */
  platform: Destination;
  pool: PartPool;
  minPartSize: number;
  /** Which deflate compresses parts; the workers' default when unset. */
  compressor?: Compressor;
  /** The session's resume journal (its owner closes it), or why it could not be opened. */
  journal: OpenedJournal;
  env?: NodeJS.ProcessEnv;
  /** `--throttle` for direct mode's part bodies (the session's bucket, shared with the platform's). */
  throttle?: BodyThrottle;
}

export interface DriveDescription {
  id: string;
  name?: string;
  cloud: string;
  endpoint?: string | null;
  region?: string | null;
}

type Mode = 'force' | 'auto' | 'off';

/**
 * The destination of each project, chosen on its first file (or up front with `warm`) and kept: a
 * daemon that meets new projects over weeks pays one decision per project, and a CLI run refuses a
 * project that cannot be used before any file object is made.
 */
export class DestinationRouter implements Destination {
  readonly kind = 'router';
  readonly #o: RouterOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #mode: Mode;
  readonly #byProject = new Map<string, Promise<Destination>>();
  readonly #targets: CloudTarget[] = [];

  constructor(o: RouterOptions) {
    this.#o = o;
    this.#env = o.env ?? process.env;
    this.#mode =
      o.options.direct || this.#env.UA_DIRECT === '1'
        ? 'force'
        : this.#env.UA_DIRECT === '0'
          ? 'off'
          : 'auto';
  }

  /** The platform's: a router's files may go to any of its destinations. */
  get capabilities(): DestinationCapabilities {
    return this.#o.platform.capabilities;
  }

  /** Chooses for these projects now (a description, when resolution made one, saves a call); throws a refusal. */
  async warm(projects: Iterable<{ id: string; description?: ProjectDescription }>, signal?: AbortSignal) {
    for (const p of projects) await this.for(p.id, p.description, signal);
  }

  /** The destination of a project's files. */
  for(projectId: string, description?: ProjectDescription, signal?: AbortSignal): Promise<Destination> {
    let d = this.#byProject.get(projectId);
    if (!d) {
      d = this.#choose({ id: projectId, description }, signal);
      d.catch(() => undefined); // observed by whoever asked
      this.#byProject.set(projectId, d);
    }
    return d;
  }

  async prepare(plan: FilePlan, projectId: string, signal: AbortSignal): Promise<Prepared> {
    return (await this.for(projectId, undefined, signal)).prepare(plan, projectId, signal);
  }

  /** Closes the cloud clients. */
  close(): void {
    for (const t of this.#targets.splice(0)) t.close();
  }

  async #choose(
    p: { id: string; description?: ProjectDescription },
    signal?: AbortSignal,
  ): Promise<Destination> {
    const env = this.#env;
    // Without any cloud credentials in the environment the automatic choice costs no API call.
    if (this.#mode === 'off' || (this.#mode === 'auto' && !awsInEnv(env) && !azureCredentialsFromEnv(env)))
      return this.#o.platform;
    const dp = await directProject(this.#o, p, this.#mode, env, signal);
    if (!dp) return this.#o.platform;
    this.#targets.push(dp.target);
    const journal = this.#o.journal.journal;
    if (!journal && this.#mode === 'force')
      throw new UaError(
        'UA_ERR_STATE_DIR',
        `cannot open the resume journal in ${this.#o.journal.dir}: ${this.#o.journal.error?.message ?? 'not opened'}; set --state-dir or UA_STATE_DIR`,
      );
    // Automatic mode keeps going without resume state rather than failing the run.
    return new DirectDestination({
      api: this.#o.api,
      projectId: p.id,
      project: dp,
      journal,
      resume: !this.#o.options.doNotResume,
      pool: this.#o.pool,
      compressLevel: this.#o.options.compressLevel,
      ...(this.#o.compressor ? { compressor: this.#o.compressor } : {}),
      minPartSize: this.#o.minPartSize,
    });
  }
}

async function directProject(
  i: RouterOptions,
  p: { id: string; description?: ProjectDescription },
  mode: Mode,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<DirectProject | undefined> {
  const refuse = (why: string): undefined => {
    if (mode === 'force') throw new UaError('UA_ERR_DIRECT', `--direct: ${why}`);
    return undefined;
  };
  // A full describe (resolution by ID) carries defaultSymlink when the project has one.
  const ds = p.description
    ? p.description.defaultSymlink
    : (await i.api.describeProject(p.id, { fields: { defaultSymlink: true } }, signal)).defaultSymlink;
  if (!ds)
    return refuse(
      `project ${p.id} does not auto-symlink (no defaultSymlink): there is no container to write into`,
    );
  let drive: DriveDescription;
  try {
    drive = await i.api.call<DriveDescription>(`${ds.drive}/describe`, {}, { signal });
  } catch (err) {
    return refuse(`cannot describe drive ${ds.drive} of project ${p.id}: ${(err as Error).message}`);
  }
  const maxAttempts = Math.max(1, i.options.tries);
  const container = ds.container.slice(ds.container.lastIndexOf(':') + 1);
  let target: CloudTarget;
  if (drive.cloud === 'aws') {
    // Forced: the SDK's default chain may still find credentials (profiles, SSO, instance roles).
    if (!awsInEnv(env) && mode !== 'force') return undefined;
    const credentials =
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          }
        : undefined;
    // Each cloud's SDK is loaded only when a drive needs it (~0.1–0.2 s of start-up CPU each).
    const { S3Target } = await import('./s3/destination.js');
    target = new S3Target({
      bucket: container,
      endpoint: drive.endpoint ?? undefined,
      region: drive.region ?? undefined,
      credentials,
      maxAttempts,
      drive: ds.drive,
      proxy: proxyEnv(env),
      ...(i.throttle ? { throttle: i.throttle } : {}),
    });
  } else if (drive.cloud === 'azure') {
    const credentials = azureCredentialsFromEnv(env);
    if (!credentials)
      return refuse(
        `no Azure credentials in the environment for drive ${ds.drive} (set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, or AZURE_STORAGE_SAS_TOKEN)`,
      );
    const { AzureTarget } = await import('./azure/destination.js');
    target = new AzureTarget({
      container,
      credentials,
      endpoint: drive.endpoint ?? undefined,
      maxAttempts,
      drive: ds.drive,
      proxy: proxyEnv(env),
      ...(i.throttle ? { throttle: i.throttle } : {}),
    });
  } else {
    return refuse(`drive ${ds.drive} is on cloud "${drive.cloud}", which direct mode does not support`);
  }
  return { drive: ds.drive, container: ds.container, prefix: ds.prefix ?? '', target };
}

function awsInEnv(env: NodeJS.ProcessEnv): boolean {
  return Boolean((env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) || env.AWS_PROFILE);
}
