import { openSession } from '../../src/engine/session.js';
import { MemoryDestination } from '../../src/transfer/memory/destination.js';
import { destinationConformance } from './destination.js';

destinationConformance('memory', async () => {
  const mem = new MemoryDestination();
  return {
    projectId: 'project-memory',
    session: (options, sink, signal) =>
      openSession(
        {
          options,
          server: { protocol: 'http', host: '127.0.0.1', port: 9 },
          token: 'unused',
          destination: mem,
        },
        sink,
        signal,
      ),
    destination: async () => mem,
    readBack: async (fileId) => mem.bytesOf(fileId),
    injectPartFailures: (n) => mem.failNextParts(n),
    stop: async () => undefined,
  };
});
