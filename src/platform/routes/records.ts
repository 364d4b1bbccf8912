import { newId } from '../../common/ids.js';
import { NEED } from '../auth/policy.js';
import { invalidInput } from '../errors.js';
import type { Handler, RouteTable } from '../http/route.js';
import { readCreation } from './files.js';
import { optBool } from './input-checks.js';
import { loadForCaller, metadataRoutes } from './metadata.js';

/** Records: data objects with metadata only; `close` is immediate (no parts, no `closing`). */
const recordNew: Handler = (ctx) => {
  const c = readCreation(ctx);
  const closeNow = optBool(ctx.input, 'close') ?? false;
  ctx.requireLevel(c.project, NEED.create);
  const store = ctx.deps.store;
  const now = ctx.deps.now();
  return store.withNonce(
    ctx.principal().userId,
    'record/new',
    ctx.input,
    () => {
      const folder = store.ensureFolder(c.project, c.folder, c.parents);
      const id = newId('record');
      store.insertRecord({ ...c, id, folder, name: c.name ?? id, createdBy: ctx.principal().userId, now });
      if (closeNow) store.closeRecord(id, now);
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
  ctx.deps.store.closeRecord(l.obj.id, ctx.deps.now());
  return { id: l.obj.id };
};

export const recordRoutes: RouteTable = {
  'record/new': recordNew,
  ...metadataRoutes('record'),
  'record-*/close': recordClose,
};
