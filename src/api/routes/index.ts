import type { RouteSpec } from '../route';
import { apiKeyRoutes } from './api-keys.routes';
import { metaRoutes } from './meta.routes';
import { siteRoutes } from './sites.routes';
import { componentRoutes } from './components.routes';
import { deviceProfileRoutes } from './device-profiles.routes';
import { deviceRoutes } from './devices.routes';
import { sensorProfileRoutes } from './sensor-profiles.routes';
import { sensorRoutes } from './sensors.routes';
import { deviceGroupRoutes } from './device-groups.routes';
import { deviceHealthRoutes } from './device-health.routes';
import { provisioningRoutes } from './provisioning.routes';
import { deviceCertificateRoutes } from './device-certificates.routes';
import { readingsBatchRoutes } from './readings-batch.routes';
import { quarantineRoutes } from './quarantine.routes';
import { readingRoutes } from './readings.routes';
import { configArtefactRoutes } from './config-artefacts.routes';
import { desiredStateRoutes } from './desired-state.routes';
import { alertRuleRoutes } from './alert-rules.routes';
import { alertRoutes } from './alerts.routes';
import { packRoutes } from './packs.routes';
import { annotationClassRoutes } from './annotation-classes.routes';
import { annotationRoutes } from './annotations.routes';
import { referencePairRoutes } from './reference-pairs.routes';
import { deviceCommandRoutes } from './device-commands.routes';
import { commandBatchRoutes } from './command-batches.routes';
import { notificationChannelRoutes } from './notification-channels.routes';
import { activityEventRoutes } from './activity-events.routes';
import { exportRoutes } from './exports.routes';
import { dashboardRoutes } from './dashboards.routes';
import { dashboardDataRoutes } from './dashboard-data.routes';
import { siteDefaultDashboardRoutes } from './site-default-dashboard.routes';

/** Every route of the API. The OpenAPI document and the probe suite read this list. */
export const API_ROUTES: readonly RouteSpec[] = [...apiKeyRoutes, ...siteRoutes,
  ...sensorProfileRoutes, ...deviceProfileRoutes, ...deviceRoutes, ...componentRoutes, ...sensorRoutes,
  ...deviceGroupRoutes, ...deviceHealthRoutes, ...provisioningRoutes, ...deviceCertificateRoutes, ...readingsBatchRoutes,
  ...quarantineRoutes, ...notificationChannelRoutes,
  ...readingRoutes, ...configArtefactRoutes, ...desiredStateRoutes, ...alertRuleRoutes, ...alertRoutes, ...packRoutes,
  ...annotationClassRoutes, ...annotationRoutes, ...referencePairRoutes,
  ...deviceCommandRoutes, ...commandBatchRoutes,
  ...activityEventRoutes,
  ...exportRoutes,
  ...dashboardRoutes, ...dashboardDataRoutes, ...siteDefaultDashboardRoutes,
  ...metaRoutes(() => API_ROUTES)];
