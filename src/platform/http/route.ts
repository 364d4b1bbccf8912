import type { BlobStore } from '../blobs/blob-store.js';
import type { Store } from '../store/store.js';
import type { GrantLevel, Level } from '../../common/levels.js';
import type { Faults } from '../faults.js';
import type { ServerStats } from '../stats.js';

/**
 * The contract between the server's HTTP layer (app.ts) and its API areas (routes/*.ts).
 * Every API call is `POST /<subject>/<method>` with a JSON object body. A route is registered under
 * a key: `system/greet`, `file/new` (class subject), or `file-` + `*` + `/describe` (entity-ID subject; `*`
 * stands for the 24-character ID body). Handlers return the JSON result or throw ApiError.
 */

/** A caller, known from its bearer token. */
export interface Principal {
  userId: string;
  tokenId: string;
  /** null = the token has the user's full access; otherwise per-project caps (`*` = every project). */
  scope: { projects: Record<string, GrantLevel> } | null;
}

export interface PlatformConfig {
  /** Seconds a file stays `closing` before it becomes `closed`, so clients really wait on close. */
  closingDelayMs: number;
  /** Lifetime of a signed part-upload or download URL. */
  urlTtlMs: number;
  /** HMAC key for signed URLs; kept in the data dir so a restart keeps issued URLs valid. */
  signingKey: Buffer;
  dataDir: string;
  /**
   * The base of signed URLs when the server is reached through another address than the one it
   * sees (a TLS reverse proxy); otherwise URLs follow each request's Host header.
   */
  publicUrl?: string;
}

export interface RouteDeps {
  /** The server's state (store/store.ts): every query and transaction; no route holds the driver. */
  store: Store;
  /** Where part and object bytes live (blobs/disk.ts unless configured otherwise). */
  blobs: BlobStore;
  /** Assemblies running on this server, by file ID (routes/assembly.ts). */
  assemblies: Map<string, Promise<void>>;
  config: PlatformConfig;
  /** http://127.0.0.1:PORT — the base of signed URLs this server hands out. */
  baseUrl(): string;
  now(): number;
  faults: Faults;
  stats: ServerStats;
}

export interface RouteContext {
  subject: string;
  method: string;
  /** The parsed JSON body; always an object (non-objects are refused before routing). */
  input: Record<string, unknown>;
  /** The caller; throws InvalidAuthentication/PermissionDenied(401) when there is no valid token. */
  principal(): Principal;
  /**
   * The caller's effective level in a project: min(membership, token scope), NONE when neither.
   * Throws ResourceNotFound when the project does not exist.
   */
  levelIn(projectId: string): Level;
  /** Throws PermissionDenied `<need> permission required in <project> …` unless levelIn ≥ need. */
  requireLevel(projectId: string, need: GrantLevel): void;
  deps: RouteDeps;
  requestId: string;
  /** `http://<Host header>` (or the configured public URL): the base of the URLs this request gets. */
  origin: string;
}

export type Handler = (ctx: RouteContext) => unknown | Promise<unknown>;
export type RouteTable = Record<string, Handler>;
