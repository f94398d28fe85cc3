import { existsSync } from 'node:fs';
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { EventStoreDbEventStore } from '../src/platform/event-store/eventstoredb-event-store';
import { eventStoreContract } from './support/event-store-contract';

/**
 * The event store contract against a real EventStoreDB: EVENTSTORE_URL when set, else a throwaway container
 * when a Docker engine is configured. Availability is decided synchronously, so a machine without either
 * reports the suite as skipped with the reason, and a machine whose Docker engine is configured but broken
 * fails loudly instead of passing silently.
 */
const IMAGE = 'eventstore/eventstore:24.10';
const externalUrl = process.env.EVENTSTORE_URL;
const dockerConfigured = Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
const available = Boolean(externalUrl) || dockerConfigured;
const title = externalUrl
  ? 'EventStoreDbEventStore (EVENTSTORE_URL)'
  : dockerConfigured
    ? `EventStoreDbEventStore (${IMAGE} in Docker)`
    : 'EventStoreDbEventStore (skipped here: no EVENTSTORE_URL and no Docker engine)';
if (!available) {
  console.warn(
    'EventStoreDbEventStore contract skipped: EVENTSTORE_URL is not set and no Docker engine is configured ' +
      '(/var/run/docker.sock absent, DOCKER_HOST unset).',
  );
}

const describeIfEsdb = available ? describe : describe.skip;

async function startEventStoreDb(): Promise<StartedTestContainer> {
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    throw new Error(`a Docker engine is configured but unreachable, cannot start ${IMAGE}`, { cause: error });
  }
  return new GenericContainer(IMAGE)
    .withEnvironment({
      EVENTSTORE_INSECURE: 'true',
      EVENTSTORE_RUN_PROJECTIONS: 'All',
      EVENTSTORE_MEM_DB: 'true',
      EVENTSTORE_ENABLE_ATOMPUB_OVER_HTTP: 'true',
    })
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCodeMatching((status) => status >= 200 && status < 300))
    .withStartupTimeout(120_000)
    .start();
}

describeIfEsdb(title, () => {
  let url = externalUrl ?? '';
  let container: StartedTestContainer | undefined;

  // Declared before the contract so it runs before the contract's own beforeAll opens the store.
  beforeAll(async () => {
    if (url) return;
    container = await startEventStoreDb();
    url = `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`;
  }, 300_000);

  eventStoreContract(async () => new EventStoreDbEventStore(url));

  afterAll(async () => {
    await container?.stop();
  });
});
