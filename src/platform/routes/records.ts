import { newId } from '../../common/ids.js';
import { NEED } from '../auth/policy.js';
import { invalidInput } from '../errors.js';
import type { Handler, RouteTable } from '../http/route.js';
import { ensureFolder } from '../store/folders.js';
import { withNonce } from '../store/nonces.js';
import { closeRecord, insertRecord } from '../store/objects.js';
import { readCreation } from './files.js';
import { optBool } from './input-checks.js';
import { loadForCaller, metadataRoutes } from './metadata.js';

/** Records: data objects with metadata only; `close` is immediate (no parts, no `closing`). */
const recordNew: Handler = (ctx) => {
  const c = readCreation(ctx);
  const closeNow = optBool(ctx.input, 'close') ?? false;
  ctx.requireLevel(c.project, NEED.create);
  const db = ctx.deps.db;
  const now = ctx.deps.now();
  return withNonce(
    db,
    ctx.principal().userId,
    'record/new',
    ctx.input,
    () => {
      const folder = ensureFolder(db, c.project, c.folder, c.parents);
      const id = newId('record');
      insertRecord(db, { ...c, id, folder, name: c.name ?? id, createdBy: ctx.principal().userId, now });
      if (closeNow) closeRecord(db, id, now);
      return { id };
    },
    now,
  );
};

/** Closing a closed record again answers `{id}`, like files (a retried close must not fail). */
const recordClose: Handler = (ctx) => {
  const l = loadForCaller(ctx, 'read');
  if (l.kind !== 'record') throw invalidInput(`${ctx.subject} is not a record`);
  ctx.requireLevel(l.obj.project, NEED.close);
  closeRecord(ctx.deps.db, l.obj.id, ctx.deps.now());
  return { id: l.obj.id };
};

export const recordRoutes: RouteTable = {
  'record/new': recordNew,
  ...metadataRoutes('record'),
  'record-*/close': recordClose,
};
