import type { EventStore } from '../../src/platform/event-store/event-store.port';

/** The real store, except that every append fails, as during a database outage. */
export function withFailingAppends(store: EventStore): EventStore {
  return {
    appendToStream: () => Promise.reject(new Error('event store unavailable')),
    readStream: (stream, options) => store.readStream(stream, options),
    readAll: (options) => store.readAll(options),
    subscribeToAll: (options) => store.subscribeToAll(options),
    getStreamMetadata: (stream) => store.getStreamMetadata(stream),
    setStreamMetadata: (stream, metadata) => store.setStreamMetadata(stream, metadata),
    deleteStream: (stream, options) => store.deleteStream(stream, options),
    headPosition: () => store.headPosition(),
    // The wrapped store belongs to the caller.
    close: async () => undefined,
  };
}
