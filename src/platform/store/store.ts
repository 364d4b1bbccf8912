/**
 * The server's state as one object: every query and transaction of the platform's SQLite database
 * behind typed methods, so routes never hold the driver handle and all SQL lives under store/.
 * The methods are the store modules' functions with the database bound (their names kept, so a
 * route reads `store.getFile(id)` where the module says `getFile(db, id)`).
 */
import { durableChanges } from './changes.js';
import * as copies from './copies.js';
import { hasTable, syncWal, tx, type Db } from './db.js';
import * as drives from './drives.js';
import * as executables from './executables.js';
import * as executions from './executions.js';
import * as files from './files.js';
import * as inlineBlobs from './inline-blobs.js';
import { findObjects } from './find.js';
import * as folderTree from './folder-tree.js';
import * as listings from './listings.js';
import { allFolders, ensureFolder, folderExists, subfolders } from './folders.js';
import { pruneNonces, withNonce } from './nonces.js';
import * as objects from './objects.js';
import * as projects from './projects.js';
import * as removal from './removal.js';
import * as tokens from './tokens.js';
import * as users from './users.js';

type Bound<F> = F extends (db: Db, ...args: infer A) => infer R ? (...args: A) => R : never;
type BoundAll<T> = { [K in keyof T]: Bound<T[K]> };

function bind<T extends object>(db: Db, fns: T): BoundAll<T> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns))
    out[name] = (...args: unknown[]) => (fn as (db: Db, ...a: unknown[]) => unknown)(db, ...args);
  return out as BoundAll<T>;
}

const QUERIES = {
  insertDrive: drives.insertDrive,
  getDrive: drives.getDrive,
  updateDrive: drives.updateDrive,
  memberProjectsUsingDrive: drives.memberProjectsUsingDrive,
  insertSymlinkUpload: drives.insertSymlinkUpload,
  getSymlinkUpload: drives.getSymlinkUpload,
  setUploadId: drives.setUploadId,
  markUploadCompleted: drives.markUploadCompleted,
  setVerifiedEtag: drives.setVerifiedEtag,
  declarePart: drives.declarePart,
  setPartStates: drives.setPartStates,
  markPartsArrived: drives.markPartsArrived,
  setFileSymlink: drives.setFileSymlink,
  markSymlinkVerified: drives.markSymlinkVerified,
  markRegisteredClosed: drives.markRegisteredClosed,
  putInlinePart: inlineBlobs.putInlinePart,
  inlinePartData: inlineBlobs.inlinePartData,
  deleteInlinePart: inlineBlobs.deleteInlinePart,
  promoteInlinePart: inlineBlobs.promoteInlinePart,
  inlineObjectSize: inlineBlobs.inlineObjectSize,
  inlineObjectData: inlineBlobs.inlineObjectData,
  deleteInlineFile: inlineBlobs.deleteInlineFile,
  insertFile: files.insertFile,
  getFile: files.getFile,
  fileState: files.fileState,
  settleClosing: files.settleClosing,
  listParts: files.listParts,
  recordPart: files.recordPart,
  markClosing: files.markClosing,
  markAssembled: files.markAssembled,
  unassembledClosing: files.unassembledClosing,
  countFiles: files.countFiles,
  findObjects,
  folderExists,
  ensureFolder,
  allFolders,
  subfolders,
  foldersBelow: folderTree.foldersBelow,
  objectsBelow: folderTree.objectsBelow,
  hasSubfolders: folderTree.hasSubfolders,
  moveObject: folderTree.moveObject,
  moveFolderTree: folderTree.moveFolderTree,
  deleteFolderTree: folderTree.deleteFolderTree,
  pruneNonces,
  insertRecord: objects.insertRecord,
  getRecord: objects.getRecord,
  closeRecord: objects.closeRecord,
  updateMeta: objects.updateMeta,
  listObjects: objects.listObjects,
  projectsWithObjects: objects.projectsWithObjects,
  setDetails: objects.setDetails,
  setHidden: objects.setHidden,
  objectCopy: copies.objectCopy,
  copyProjects: copies.copyProjects,
  cloneCopy: copies.cloneCopy,
  objectClassIn: removal.objectClassIn,
  deleteObject: removal.deleteObject,
  insertExecutable: executables.insertExecutable,
  getExecutable: executables.getExecutable,
  insertExecution: executions.insertExecution,
  getExecution: executions.getExecution,
  findExecutions: executions.findExecutions,
  projectsWithExecutions: executions.projectsWithExecutions,
  insertProject: projects.insertProject,
  projectExists: projects.projectExists,
  getProject: projects.getProject,
  updateProject: projects.updateProject,
  projectsOfUser: projects.projectsOfUser,
  memberLevel: projects.memberLevel,
  setMember: projects.setMember,
  removeMember: projects.removeMember,
  listMembers: projects.listMembers,
  insertToken: tokens.insertToken,
  tokenByHash: tokens.tokenByHash,
  tokenById: tokens.tokenById,
  revokeTokenById: tokens.revokeTokenById,
  listDrives: listings.listDrives,
  listProjects: listings.listProjects,
  listProjectFiles: listings.listProjectFiles,
  listTokens: listings.listTokens,
  insertUser: users.insertUser,
  getUser: users.getUser,
  findUser: users.findUser,
  hasTable,
};

export type Store = BoundAll<typeof QUERIES> & {
  /** Runs `fn` in one immediate transaction. */
  tx<T>(fn: () => T): T;
  /** A nonce'd create (platform-api.md §1.5): `create` runs once per nonce, its answer replayed after. */
  withNonce<T>(
    userId: string,
    route: string,
    input: Record<string, unknown>,
    create: () => T,
    now?: number,
  ): T;
  /** Resolves once every commit so far is on disk (group commit; see db.ts). */
  syncWal(): Promise<void>;
  /** A counter that moves with every durable write (a route that wrote waits on syncWal). */
  durableChanges(): number;
  /** False once closed. */
  readonly open: boolean;
  close(): void;
};

export function storeOf(db: Db): Store {
  const store = bind(db, QUERIES) as Store;
  Object.defineProperty(store, 'open', { get: () => db.open });
  return Object.assign(store, {
    tx: <T>(fn: () => T): T => tx(db, fn),
    withNonce: <T>(
      userId: string,
      route: string,
      input: Record<string, unknown>,
      create: () => T,
      now?: number,
    ): T => withNonce(db, userId, route, input, create, now),
    syncWal: () => syncWal(db),
    durableChanges: () => durableChanges(db),
    close: () => db.close(),
  });
}
