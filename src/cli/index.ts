import { parseArgs } from 'node:util';
import { ConfigError } from '../platform/config';
import { auditCommand } from './audit.command';
import { brokerConfigCommand } from './broker-config.command';
import { createOrgCommand, UsageError } from './create-org.command';
import { deviceSimulateCommand } from './device-simulate.command';
import { mintJwtCommand } from './mint-jwt.command';
import { projectionsRebuildCommand, projectionsStatusCommand } from './projections.command';
import { readingsMaintainCommand, readingsPartitionsCommand } from './readings.command';

/** Ends the process with a status, even while pools and listeners are still open. */
const terminate: (code: number) => never = process.exit.bind(process);

const HELP = `iotplane operator commands (npm run cli -- <command>)

  admin create-org --name <name>                 new organization + admin API key, as one JSON line
  admin mint-jwt --org <id> --role <r> --sub <u> development user token (HS256) [--expires 1h]
  admin projections status [--json]              checkpoint, lag and state of each projection
  admin projections rebuild <name>               rebuild into shadow tables and swap atomically
  admin readings partitions [--json]             storage mode, partitions with approximate rows, retention per organization
  admin readings maintain [--json]               create partitions ahead and apply retention once, now
  admin audit [--org <id>] [--stream <prefix>] [--type <T1,T2>] [--actor <actor>]
              [--from <time>] [--to <time>] [--json] [--follow]
  admin broker-config --out <dir> [--port 8883] [--host <h>] [--bind <a>] [--run-as <user>]
              [--internal ingest-1,ingest-2,renewal,health,commands,platform]
              files for a production Mosquitto: config, ACL, CA, server and internal certificates, CRL
`;

async function main(argv: string[]): Promise<void> {
  // Before the shared parse: this command's options (--out, --port, ...) are its own.
  if (argv[0] === 'admin' && argv[1] === 'broker-config') return brokerConfigCommand(argv.slice(2));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      org: { type: 'string' },
      role: { type: 'string' },
      sub: { type: 'string' },
      expires: { type: 'string' },
      stream: { type: 'string' },
      type: { type: 'string' },
      actor: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean' },
      follow: { type: 'boolean' },
      count: { type: 'string' },
      rate: { type: 'string' },
      sensors: { type: 'string' },
      duration: { type: 'string' },
      'api-url': { type: 'string' },
      'api-key': { type: 'string' },
      'mqtt-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals.join(' ');
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP);
    return;
  }
  if (command === 'admin create-org') return createOrgCommand(values);
  if (command === 'admin mint-jwt') return mintJwtCommand(values);
  if (command === 'admin projections status') return projectionsStatusCommand(values);
  if (positionals.slice(0, 3).join(' ') === 'admin projections rebuild') return projectionsRebuildCommand(positionals[3]);
  if (command === 'admin audit') return auditCommand(values);
  if (command === 'admin readings partitions') return readingsPartitionsCommand(values);
  if (command === 'admin readings maintain') return readingsMaintainCommand(values);
  if (command === 'device simulate') return deviceSimulateCommand(values, process.env);
  throw new UsageError(`<command>; unknown command "${command}"\n\n${HELP}`);
}

main(process.argv.slice(2)).then(
  () => terminate(0),
  (error: unknown) => {
    const known = error instanceof UsageError || error instanceof ConfigError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    process.stderr.write(`${known ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    terminate(known ? 2 : 1);
  },
);
