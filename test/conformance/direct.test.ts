/** Direct mode into a project's auto-symlink container: S3 (s3rver) and Azure (azurite). */
import { openSession } from '../../src/engine/session.js';
import { downloadFile } from '../helpers/remote.js';
import { startSymlinkEnv, type CloudName } from '../platform/symlink-harness.js';
import { destinationConformance } from './destination.js';

for (const cloud of ['aws', 'azure'] as CloudName[]) {
  destinationConformance(cloud === 'aws' ? 'S3 (direct, s3rver)' : 'Azure (direct, azurite)', async () => {
    const env = await startSymlinkEnv(cloud);
    const server = { protocol: 'http', host: env.tp.platform.host, port: env.tp.platform.port };
    const creds: Record<string, string> =
      cloud === 'aws'
        ? { AWS_ACCESS_KEY_ID: env.s3!.accessKeyId, AWS_SECRET_ACCESS_KEY: env.s3!.secretAccessKey }
        : { AZURE_STORAGE_CONNECTION_STRING: env.az!.connectionString };
    return {
      projectId: env.project,
      session: (options, sink, signal) =>
        openSession(
          {
            options: { ...options, direct: true },
            server,
            token: env.tp.token,
            env: { ...process.env, ...creds },
            retry: { minDelayMs: 10, maxDelayMs: 50 },
          },
          sink,
          signal,
        ),
      destination: (s) => s.router!.for(env.project),
      // Through the platform: its download reads the object from the container and checks its MD5.
      readBack: (fileId) => downloadFile(env.tp, fileId),
      stop: () => env.stop(),
    };
  });
}
