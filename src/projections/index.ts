import { apiKeysProjection } from './api-keys.projection';
import { organizationsProjection } from './organizations.projection';
import type { Projection } from './projection';
import { sitesProjection } from './sites.projection';
import { componentsProjection } from './components.projection';
import { deviceProfilesProjection } from './device-profiles.projection';
import { devicesProjection } from './devices.projection';
import { sensorProfilesProjection } from './sensor-profiles.projection';
import { sensorsProjection } from './sensors.projection';
import { deviceGroupsProjection } from './device-groups.projection';
import { deviceHealthProjection } from './device-health.projection';
import { registrationTokensProjection } from './registration-tokens.projection';
import { deviceCertificatesProjection } from './device-certificates.projection';
import { configArtefactsProjection } from './config-artefacts.projection';
import { desiredStateBindingsProjection } from './desired-state-bindings.projection';
import { deviceStatesProjection } from './device-states.projection';
import { notificationChannelsProjection } from './notification-channels.projection';
import { alertRulesProjection } from './alert-rules.projection';
import { alertsProjection } from './alerts.projection';
import { annotationClassesProjection } from './annotation-classes.projection';
import { annotationsProjection } from './annotations.projection';
import { referencePairsProjection } from './reference-pairs.projection';
import { packsProjection } from './packs.projection';
import { deviceCommandsProjection } from './device-commands.projection';
import { activityEventsProjection } from './activity-events.projection';
import { exportsProjection } from './exports.projection';
import { dashboardsProjection } from './dashboards.projection';
import { siteDefaultDashboardsProjection } from './site-default-dashboards.projection';

/** Every projection the platform runs. */
export const PROJECTIONS: readonly Projection[] = [organizationsProjection, apiKeysProjection, sitesProjection,
  sensorProfilesProjection, deviceProfilesProjection, devicesProjection, componentsProjection, sensorsProjection,
  deviceGroupsProjection, deviceHealthProjection, registrationTokensProjection, deviceCertificatesProjection, configArtefactsProjection,
  notificationChannelsProjection,
  dashboardsProjection, siteDefaultDashboardsProjection,
  annotationClassesProjection, annotationsProjection, referencePairsProjection,
  desiredStateBindingsProjection, deviceStatesProjection, alertRulesProjection, alertsProjection, packsProjection, deviceCommandsProjection, activityEventsProjection,
  exportsProjection];

export function findProjection(name: string): Projection | undefined {
  return PROJECTIONS.find((p) => p.name === name);
}
