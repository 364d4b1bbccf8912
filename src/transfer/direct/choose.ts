/**
 * Which destination each project's files go to: the platform (the default), or straight into the
 * project's auto-symlink container (direct mode).
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
import type { UaOptions } from '../../config/options.js';
import { UaError } from '../../errors.js';
import type { OpenedJournal } from '../../state/journal.js';
import type { PartPool } from '../../work/pool.js';
import { azureCredentialsFromEnv } from '../azure/credentials.js';
import type { Destination, Prepared } from '../destination.js';
import type { PlatformClient, ProjectDescription } from '../platform/api.js';
import type { CloudTarget } from './cloud.js';
import { DirectDestination, type DirectProject } from './destination.js';

export interface ChooseDestinationInput {
  options: Pick<UaOptions, 'direct' | 'doNotResume' | 'tries' | 'compressLevel'> & { stateDir?: string };
  api: PlatformClient;
  /** The run's resolved projects (a description, when resolution made one, saves a call). */
  projects: Iterable<{ id: string; description?: ProjectDescription }>;
  /** Where files of non-direct projects go. */
  platform: Destination;
  pool: PartPool;
  minPartSize: number;
  /** The run's resume journal (its owner closes it), or why it could not be opened. */
  journal: OpenedJournal;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface ChosenDestination {
  destination: Destination;
  /** Project IDs whose files go straight into their container. */
  direct: string[];
  /** Closes the cloud clients. */
  close(): void;
}

export interface DriveDescription {
  id: string;
  name?: string;
  cloud: string;
  endpoint?: string | null;
  region?: string | null;
}

type Mode = 'force' | 'auto' | 'off';

export async function chooseDestination(i: ChooseDestinationInput): Promise<ChosenDestination> {
  const env = i.env ?? process.env;
  const mode: Mode =
    i.options.direct || env.UA_DIRECT === '1' ? 'force' : env.UA_DIRECT === '0' ? 'off' : 'auto';
  const platformOnly = { destination: i.platform, direct: [], close: () => undefined };
  // Without any cloud credentials in the environment the automatic choice costs no API call.
  if (mode === 'off' || (mode === 'auto' && !awsInEnv(env) && !azureCredentialsFromEnv(env)))
    return platformOnly;
  const chosen = new Map<string, DirectProject>();
  try {
    for (const p of i.projects) {
      const dp = await directProject(i, p, mode, env);
      if (dp) chosen.set(p.id, dp);
    }
  } catch (err) {
    for (const dp of chosen.values()) dp.target.close();
    throw err;
  }
  if (chosen.size === 0) return platformOnly;
  const journal = i.journal.journal;
  if (!journal && mode === 'force') {
    for (const dp of chosen.values()) dp.target.close();
    throw new UaError(
      'UA_ERR_STATE_DIR',
      `cannot open the resume journal in ${i.journal.dir}: ${i.journal.error?.message ?? 'not opened'}; set --state-dir or UA_STATE_DIR`,
    );
  }
  // Automatic mode keeps going without resume state rather than failing the run.
  const direct = new DirectDestination({
    api: i.api,
    projects: chosen,
    journal,
    resume: !i.options.doNotResume,
    pool: i.pool,
    compressLevel: i.options.compressLevel,
    minPartSize: i.minPartSize,
  });
  const owned = new Set<string>();
  const destination: Destination = {
    kind: 'direct+platform',
    async prepare(plan, projectId, signal): Promise<Prepared> {
      if (!chosen.has(projectId)) return i.platform.prepare(plan, projectId, signal);
      const prepared = await direct.prepare(plan, projectId, signal);
      if (prepared.kind === 'already-closed') owned.add(prepared.fileId);
      return prepared;
    },
    describe(fileId, signal) {
      return direct.owns(fileId) || owned.has(fileId)
        ? direct.describe(fileId, signal)
        : i.platform.describe(fileId, signal);
    },
  };
  return {
    destination,
    direct: [...chosen.keys()],
    close() {
      for (const dp of chosen.values()) dp.target.close();
    },
  };
}

async function directProject(
  i: ChooseDestinationInput,
  p: { id: string; description?: ProjectDescription },
  mode: Mode,
  env: NodeJS.ProcessEnv,
): Promise<DirectProject | undefined> {
  const refuse = (why: string): undefined => {
    if (mode === 'force') throw new UaError('UA_ERR_DIRECT', `--direct: ${why}`);
    return undefined;
  };
  // A full describe (resolution by ID) carries defaultSymlink when the project has one.
  const ds = p.description
    ? p.description.defaultSymlink
    : (await i.api.describeProject(p.id, { fields: { defaultSymlink: true } }, i.signal)).defaultSymlink;
  if (!ds)
    return refuse(
      `project ${p.id} does not auto-symlink (no defaultSymlink): there is no container to write into`,
    );
  let drive: DriveDescription;
  try {
    drive = await i.api.call<DriveDescription>(`${ds.drive}/describe`, {}, { signal: i.signal });
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
    const { S3Target } = await import('../s3/destination.js');
    target = new S3Target({
      bucket: container,
      endpoint: drive.endpoint ?? undefined,
      region: drive.region ?? undefined,
      credentials,
      maxAttempts,
      drive: ds.drive,
    });
  } else if (drive.cloud === 'azure') {
    const credentials = azureCredentialsFromEnv(env);
    if (!credentials)
      return refuse(
        `no Azure credentials in the environment for drive ${ds.drive} (set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, or AZURE_STORAGE_SAS_TOKEN)`,
      );
    const { AzureTarget } = await import('../azure/destination.js');
    target = new AzureTarget({
      container,
      credentials,
      endpoint: drive.endpoint ?? undefined,
      maxAttempts,
      drive: ds.drive,
    });
  } else {
    return refuse(`drive ${ds.drive} is on cloud "${drive.cloud}", which direct mode does not support`);
  }
  return { drive: ds.drive, container: ds.container, prefix: ds.prefix ?? '', target };
}

function awsInEnv(env: NodeJS.ProcessEnv): boolean {
  return Boolean((env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) || env.AWS_PROFILE);
}
