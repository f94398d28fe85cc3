import type { RouteSpec } from '../route';
import { apiKeyRoutes } from './api-keys.routes';
import { metaRoutes } from './meta.routes';
import { siteRoutes } from './sites.routes';

/** Every route of the API. The OpenAPI document and the probe suite read this list. */
export const API_ROUTES: readonly RouteSpec[] = [...apiKeyRoutes, ...siteRoutes, ...metaRoutes(() => API_ROUTES)];
