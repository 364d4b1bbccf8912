import type { RouteTable } from '../http/route.js';
import { driveRoutes } from './drives.js';
import { executableRoutes } from './executables.js';
import { executionRoutes } from './executions.js';
import { fileRoutes } from './files.js';
import { findRoutes } from './find.js';
import { cloneRoutes } from './clone.js';
import { projectEditRoutes } from './project-edit.js';
import { projectRoutes } from './projects.js';
import { recordRoutes } from './records.js';
import { removeObjectsRoutes } from './remove-objects.js';
import { systemRoutes } from './system.js';
import { userRoutes } from './users.js';

/** Every API route the server answers. Add an area's table here; keys must not collide. */
export function allRoutes(): RouteTable {
  const tables: RouteTable[] = [
    systemRoutes,
    projectRoutes,
    fileRoutes,
    recordRoutes,
    findRoutes,
    driveRoutes,
    executableRoutes,
    executionRoutes,
    removeObjectsRoutes,
    projectEditRoutes,
    cloneRoutes,
    userRoutes,
  ];
  const merged: RouteTable = {};
  for (const table of tables) {
    for (const [key, handler] of Object.entries(table)) {
      if (Object.hasOwn(merged, key)) throw new Error(`route ${key} is registered twice`);
      merged[key] = handler;
    }
  }
  return merged;
}
