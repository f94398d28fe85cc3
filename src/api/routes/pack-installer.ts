import { alertRuleCommands } from '../../commands/alert-rules/alert-rule.handler';
import { deterministicId } from '../../commands/command-handler';
import { checkContent } from '../../commands/config-artefacts/config-artefact.content';
import { configArtefactStream } from '../../commands/config-artefacts/config-artefact.decider';
import { configArtefactCommands } from '../../commands/config-artefacts/config-artefact.handler';
import { desiredStateBindingStream } from '../../commands/desired-state/desired-state-binding.decider';
import { desiredStateBindingCommands } from '../../commands/desired-state/desired-state-binding.handler';
import { deviceProfileCommands } from '../../commands/device-profiles/device-profile.handler';
import type { InstalledResource, PackTargetType } from '../../commands/packs/pack-installation.decider';
import { PACK_KINDS, itemHash, targetedLayout, type PackContent, type PackKind } from '../../commands/packs/pack.content';
import { ORGANIZATION_OWNER } from '../../commands/dashboards/dashboard.decider';
import { dashboardCommands } from '../../commands/dashboards/dashboard.handler';
import type { DashboardLayout } from '../../commands/dashboards/dashboard.layout';
import { siteDefaultDashboardCommands } from '../../commands/dashboards/site-default-dashboard.handler';
import { sensorProfileCommands } from '../../commands/sensor-profiles/sensor-profile.handler';
import type { RouteContext } from '../route';
import { resolveOpenAlerts } from './alert-rules.routes';

/** Where an installation puts its resources, and how it names them. */
export interface InstallEnvironment {
  readonly installationId: string;
  /** Bumped by each reinstall after an uninstall: ids of deleted resources are never reused. */
  readonly generation: number;
  readonly targetType: PackTargetType;
  readonly targetId: string;
}

type Item = { key: string } & Record<string, unknown>;

export interface PackPlan {
  added: { kind: PackKind; key: string }[];
  changed: { kind: PackKind; key: string }[];
  removed: { kind: PackKind; key: string }[];
  unchanged: { kind: PackKind; key: string }[];
}

const resourceId = (env: InstallEnvironment, kind: PackKind, key: string): string => deterministicId(env.installationId, String(env.generation), kind, key);

async function exists(ctx: RouteContext, stream: string): Promise<boolean> {
  return (await ctx.deps.store.readStream(stream, { maxCount: 1 })).length > 0;
}

/** Is this installed resource still used by something the pack did not make? Profiles in use are kept on removal. */
async function inUse(ctx: RouteContext, kind: PackKind, id: string): Promise<boolean> {
  const sql =
    kind === 'sensorProfiles'
      ? 'SELECT 1 FROM sensors WHERE sensor_profile_id = $1 UNION ALL SELECT 1 FROM device_profiles WHERE expected_sensors @> jsonb_build_array(jsonb_build_object(\'sensorProfileId\', $1::text))'
      : kind === 'deviceProfiles'
        ? "SELECT 1 FROM devices WHERE device_profile_id = $1 AND status <> 'DECOMMISSIONED'"
        : undefined;
  if (sql === undefined) return false;
  return ctx.tenant(async (tx) => ((await tx.query(`${sql} LIMIT 1`, [id])).rowCount ?? 0) > 0);
}

/**
 * Creates the resource of a pack item, or brings an existing one (an
 * interrupted install, or an upgrade that changed the item) up to date.
 * Everything goes through the resources' own command handlers, so their
 * rules and events are the same as through their routes.
 */
async function ensure(ctx: RouteContext, env: InstallEnvironment, kind: PackKind, item: Item, id = resourceId(env, kind, item.key)): Promise<InstalledResource> {
  const { store } = ctx.deps;
  const settle = async (result: Parameters<RouteContext['settle']>[0]) => ctx.settle(result);
  const resource: InstalledResource = { kind, key: item.key, id, hash: itemHash(item) };
  switch (kind) {
    case 'sensorProfiles': {
      const fields = {
        name: item.name as string,
        description: (item.description as string | null | undefined) ?? null,
        quantity: item.quantity as string,
        unit: item.unit as string,
        validRange: (item.validRange as { min: number; max: number } | null | undefined) ?? null,
        expectedIntervalSeconds: (item.expectedIntervalSeconds as number | null | undefined) ?? null,
        precision: (item.precision as number | null | undefined) ?? null,
      };
      await settle(
        (await exists(ctx, sensorProfileCommands.stream(id))) ? await sensorProfileCommands.update(store, ctx.command, id, fields) : await sensorProfileCommands.create(store, ctx.command, id, fields),
      );
      return resource;
    }
    case 'deviceProfiles': {
      const sensors = (item.expectedSensors as { key: string; sensorProfileKey?: string | null; unit?: string | null }[] | undefined) ?? [];
      const fields = {
        name: item.name as string,
        description: (item.description as string | null | undefined) ?? null,
        expectedComponents: (item.expectedComponents as { key: string; kind: never }[] | undefined) ?? [],
        expectedSensors: sensors.map((s) => ({ key: s.key, sensorProfileId: s.sensorProfileKey ? resourceId(env, 'sensorProfiles', s.sensorProfileKey) : null, unit: s.unit ?? null })),
        defaultConfig: (item.defaultConfig as Record<string, unknown> | undefined) ?? {},
      };
      await settle(
        (await exists(ctx, deviceProfileCommands.stream(id))) ? await deviceProfileCommands.update(store, ctx.command, id, fields) : await deviceProfileCommands.create(store, ctx.command, id, fields),
      );
      return resource;
    }
    case 'alertRules': {
      const fields = {
        name: item.name as string,
        description: (item.description as string | null | undefined) ?? null,
        enabled: true,
        severity: (item.severity as 'INFO' | 'WARNING' | 'CRITICAL' | undefined) ?? 'WARNING',
        scopeType: env.targetType,
        scopeId: env.targetId,
        sensorKey: (item.sensorKey as string | null | undefined) ?? null,
        operator: (item.operator as 'AND' | 'OR' | undefined) ?? 'AND',
        conditions: item.conditions as never,
        forSeconds: (item.forSeconds as number | undefined) ?? 0,
        hysteresis: (item.hysteresis as number | undefined) ?? 0,
        channelIds: [],
      };
      if (await exists(ctx, alertRuleCommands.stream(id))) {
        const { enabled: _enabled, channelIds: _channels, ...changes } = fields; // what operators set on the rule is theirs to keep
        await settle(await alertRuleCommands.update(store, ctx.command, id, changes));
        await resolveOpenAlerts(ctx, id);
      } else await settle(await alertRuleCommands.create(store, ctx.command, id, fields));
      return resource;
    }
    case 'configArtefacts': {
      const checked = checkContent(item.content, (item.schema as Record<string, unknown> | null | undefined) ?? null);
      if (await exists(ctx, configArtefactStream(id))) await settle(await configArtefactCommands.addVersion(store, ctx.command, id, checked));
      else await settle(await configArtefactCommands.create(store, ctx.command, id, { name: item.name as string, description: (item.description as string | null | undefined) ?? null }, checked));
      const bindingId = deterministicId(id, 'binding');
      if (!(await exists(ctx, desiredStateBindingStream(bindingId)))) {
        const binding = { artefactId: id, version: 'latest' as const, targetType: env.targetType, targetId: env.targetId, priority: (item.priority as number | undefined) ?? 0 };
        await settle(await desiredStateBindingCommands.bind(store, ctx.command, bindingId, binding));
      }
      return { ...resource, bindingId };
    }
    case 'dashboards': {
      const fields = {
        name: item.name as string,
        description: (item.description as string | null | undefined) ?? null,
        siteId: env.targetType === 'SITE' ? env.targetId : null,
        visibility: 'ORGANIZATION' as const,
        owner: ORGANIZATION_OWNER,
        layout: targetedLayout(item.layout as DashboardLayout, env.targetType, env.targetId),
      };
      if (await exists(ctx, dashboardCommands.stream(id))) {
        const { visibility: _visibility, owner: _owner, ...changes } = fields;
        await settle(await dashboardCommands.update(store, ctx.command, id, changes));
      } else await settle(await dashboardCommands.create(store, ctx.command, id, fields));
      return resource;
    }
  }
}

/** Removes an installed resource; returns false when it was kept because something else uses it. */
async function remove(ctx: RouteContext, resource: InstalledResource): Promise<boolean> {
  const { store } = ctx.deps;
  if (await inUse(ctx, resource.kind, resource.id)) return false;
  switch (resource.kind) {
    case 'sensorProfiles':
      await ctx.settle(await sensorProfileCommands.remove(store, ctx.command, resource.id));
      return true;
    case 'deviceProfiles':
      await ctx.settle(await deviceProfileCommands.remove(store, ctx.command, resource.id));
      return true;
    case 'alertRules':
      await ctx.settle(await alertRuleCommands.remove(store, ctx.command, resource.id));
      await resolveOpenAlerts(ctx, resource.id);
      return true;
    case 'configArtefacts':
      if (resource.bindingId) await ctx.settle(await desiredStateBindingCommands.unbind(store, ctx.command, resource.bindingId));
      await ctx.settle(await configArtefactCommands.archive(store, ctx.command, resource.id));
      return true;
    case 'dashboards': {
      await ctx.settle(await dashboardCommands.remove(store, ctx.command, resource.id));
      // A site whose default it was has none after, as when the dashboard is deleted through its route.
      const sites = await ctx.tenant(async (tx) => (await tx.query<{ site_id: string }>('SELECT site_id FROM site_default_dashboards WHERE dashboard_id = $1', [resource.id])).rows);
      for (const { site_id: siteId } of sites) await ctx.settle(await siteDefaultDashboardCommands.clear(store, ctx.command, siteId, { onlyIf: resource.id }));
      return true;
    }
  }
}

const items = (content: PackContent, kind: PackKind): Item[] => (content[kind] ?? []) as unknown as Item[];

/** What applying `content` over the `installed` resources would do, matched by kind and key, changed by item hash. */
export function planUpgrade(installed: readonly InstalledResource[], content: PackContent): PackPlan {
  const plan: PackPlan = { added: [], changed: [], removed: [], unchanged: [] };
  for (const kind of PACK_KINDS) {
    const current = new Map(installed.filter((r) => r.kind === kind).map((r) => [r.key, r]));
    for (const item of items(content, kind)) {
      const resource = current.get(item.key);
      if (!resource) plan.added.push({ kind, key: item.key });
      else if (resource.hash !== itemHash(item)) plan.changed.push({ kind, key: item.key });
      else plan.unchanged.push({ kind, key: item.key });
      current.delete(item.key);
    }
    for (const key of current.keys()) plan.removed.push({ kind, key });
  }
  return plan;
}

/** Creates every item's resource (profiles first: device profiles refer to sensor profiles). */
export async function installContent(ctx: RouteContext, env: InstallEnvironment, content: PackContent): Promise<InstalledResource[]> {
  const resources: InstalledResource[] = [];
  for (const kind of PACK_KINDS) for (const item of items(content, kind)) resources.push(await ensure(ctx, env, kind, item));
  return resources;
}

/** Applies an upgrade: creates added items, updates changed ones, removes the rest (in reverse order). */
export async function upgradeContent(ctx: RouteContext, env: InstallEnvironment, installed: readonly InstalledResource[], content: PackContent): Promise<InstalledResource[]> {
  const plan = planUpgrade(installed, content);
  const keep = new Set(plan.unchanged.map((x) => `${x.kind}:${x.key}`));
  const resources: InstalledResource[] = [];
  for (const kind of PACK_KINDS) {
    for (const item of items(content, kind)) {
      const current = installed.find((r) => r.kind === kind && r.key === item.key);
      if (current && keep.has(`${kind}:${item.key}`)) resources.push(current);
      else resources.push(await ensure(ctx, env, kind, item, current?.id));
    }
  }
  const removed = new Set(plan.removed.map((x) => `${x.kind}:${x.key}`));
  for (const resource of [...installed].reverse()) {
    if (removed.has(`${resource.kind}:${resource.key}`) && !(await remove(ctx, resource))) resources.push(resource);
  }
  return resources;
}

/** Removes every resource of an installation; returns the ones kept because something else uses them. */
export async function uninstallContent(ctx: RouteContext, installed: readonly InstalledResource[]): Promise<InstalledResource[]> {
  const kept: InstalledResource[] = [];
  for (const resource of [...installed].reverse()) if (!(await remove(ctx, resource))) kept.push(resource);
  return kept;
}
