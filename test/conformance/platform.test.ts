import { openSession } from '../../src/engine/session.js';
import { startTestPlatform } from '../helpers/platform.js';
import { downloadFile } from '../helpers/remote.js';
import { destinationConformance } from './destination.js';

destinationConformance('ua-platform', async () => {
  const tp = await startTestPlatform({ closingDelayMs: 20, quiet: true });
  const server = { protocol: 'http', host: tp.platform.host, port: tp.platform.port };
  return {
    projectId: tp.project,
    session: (options, sink, signal) =>
      openSession(
        { options, server, token: tp.token, retry: { minDelayMs: 10, maxDelayMs: 50 } },
        sink,
        signal,
      ),
    destination: (s) => s.router!.for(tp.project),
    readBack: (fileId) => downloadFile(tp, fileId),
    injectPartFailures: (n) =>
      tp.platform.faults.add({ target: 'put', action: 'status', status: 500, count: n }),
    stop: () => tp.stop(),
  };
});
