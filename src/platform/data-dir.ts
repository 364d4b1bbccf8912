import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_BYTES = 32;

/**
 * The HMAC key for signed URLs: `<dataDir>/signing.key`, created once (mode 0600) and reused, so
 * URLs handed out before a restart stay valid after it.
 */
export function loadSigningKey(dataDir: string): Buffer {
  const file = join(dataDir, 'signing.key');
  if (existsSync(file)) {
    const key = readFileSync(file);
    if (key.length !== KEY_BYTES) throw new Error(`${file} must hold exactly ${KEY_BYTES} bytes`);
    return key;
  }
  const key = randomBytes(KEY_BYTES);
  // 'wx' fails if another process created it meanwhile; then use theirs.
  try {
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadSigningKey(dataDir);
    throw err;
  }
  chmodSync(file, 0o600); // the umask may have narrowed it further, never widened; be exact
  return key;
}
