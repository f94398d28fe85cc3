import { developmentSecret } from '../api/auth/jwt-settings';
import { mintJwt } from '../api/auth/jwt-verifier';
import { isRole } from '../commands/roles';
import { loadConfig } from '../platform/config';
import { UsageError } from './create-org.command';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `admin mint-jwt --org <id> --role <role> --sub <user> [--expires 1h]`: a development user token (HS256). */
export async function mintJwtCommand(options: { org?: string; role?: string; sub?: string; expires?: string }): Promise<void> {
  const usage = 'admin mint-jwt --org <orgId> --role admin|member|viewer --sub <userId> [--expires 1h]';
  if (!options.org || !UUID.test(options.org) || !isRole(options.role) || !options.sub) throw new UsageError(usage);
  const config = loadConfig();
  if (config.jwt.publicKey) {
    throw new Error('JWT_PUBLIC_KEY is set: tokens are signed by the web app, not by this CLI');
  }
  const secret = config.jwt.secret ?? (await developmentSecret(config.dataDir));
  const token = await mintJwt(
    secret,
    { sub: options.sub, orgId: options.org.toLowerCase(), role: options.role },
    {
      expiresIn: options.expires ?? '1h',
      ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
      ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
    },
  );
  process.stdout.write(`${token}\n`);
}
