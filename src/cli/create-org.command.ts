import { createOrganization } from '../commands/organizations/organization.handler';
import { withPlatform } from './cli-platform';

/** `admin create-org --name <name>`: one JSON line {"orgId","apiKey"}; the key is shown once. */
export async function createOrgCommand(options: { name?: string }): Promise<void> {
  const name = options.name?.trim();
  if (!name) throw new UsageError('admin create-org --name <name>');
  await withPlatform(async (platform) => {
    const created = await createOrganization(platform.store, { name, actor: 'system' });
    process.stdout.write(`${JSON.stringify({ orgId: created.orgId, apiKey: created.apiKey })}\n`);
  });
}

export class UsageError extends Error {
  constructor(usage: string) {
    super(`usage: npm run cli -- ${usage}`);
    this.name = 'UsageError';
  }
}
