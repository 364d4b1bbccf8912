// Owned by the files half of the server. Placeholder so the route index compiles.
import type { RouteTable } from '../http/route.js';
export const fileRoutes: RouteTable = {};
