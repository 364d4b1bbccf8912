import { notFound, invalidInput } from '../errors.js';
import type { Handler, RouteTable } from '../http/route.js';
import { isPlainObject } from './input-checks.js';
import { DEFAULT_REGION, REGIONS } from './projects.js';

/**
 * `/user-xxxx/describe` (D-Users), what `dx whoami` calls after `/system/whoami` to print the
 * handle. Users are named by handle (`user-alice`), which app.ts routes as the `user` class.
 *
 * Who sees what, as the platform documents it: when anyone other than the user, or a token
 * that is not full-scope, describes a user, "only the ID, class, first, middle, last, and handle
 * fields are returned" — so another user is described, not refused. Full scope here is a token
 * without a scope (`scope: null`); any scoped token, `*` included, gets the basic fields.
 * The user's own full-scope describe adds `billTo` (a user bills to themself here: there are no
 * orgs), `defaultRegion` and `permittedRegions` (§7; every region this server offers, the
 * default being the one /project/new uses), and `appsInstalled` when asked for (none: there are
 * no apps). This server stores no names or email addresses, so `first`, `middle`, `last` and
 * `email` are left out rather than made up (dx prints a Name only when all three are present).
 *
 * Input: `fields` (name → boolean) picks fields, `defaultFields` adds the defaults back
 * (default false when `fields` is given); the deprecated flags (`appsInstalled`, …) add theirs.
 */
const describeUser: Handler = (ctx) => {
  const user = ctx.deps.store.getUser(ctx.subject);
  if (!user) throw notFound(ctx.subject);
  const { fields, defaultFields } = ctx.input;
  if (
    fields !== undefined &&
    (!isPlainObject(fields) || !Object.values(fields).every((v) => typeof v === 'boolean'))
  )
    throw invalidInput('fields must be a mapping of field names to booleans');
  if (defaultFields !== undefined && typeof defaultFields !== 'boolean')
    throw invalidInput('defaultFields must be a boolean');
  const principal = ctx.principal();
  const full = principal.userId === user.id && principal.scope === null;
  const basic = { id: user.id, class: 'user', handle: user.handle };
  const defaults: Record<string, unknown> = full
    ? { ...basic, billTo: user.id, defaultRegion: DEFAULT_REGION, permittedRegions: [...REGIONS] }
    : basic;
  const extras: Record<string, unknown> = full ? { appsInstalled: {} } : {};
  const known = { ...defaults, ...extras };
  const picked = fields as Record<string, boolean> | undefined;
  const out: Record<string, unknown> = picked && defaultFields !== true ? { id: user.id } : { ...defaults };
  const wanted = picked ?? Object.fromEntries(Object.keys(extras).map((k) => [k, ctx.input[k] === true]));
  for (const [k, want] of Object.entries(wanted)) {
    if (want && k in known) out[k] = known[k];
    else if (!want && k !== 'id') delete out[k];
  }
  return out;
};

export const userRoutes: RouteTable = {
  'user-*/describe': describeUser,
};
