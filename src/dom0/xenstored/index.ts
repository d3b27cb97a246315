/**
 * xenstored's public surface for the rest of dom0 and the host:
 * - XenStored: the daemon (store, connections, domains); `domains` is the toolstack's
 *   introduce/release API, `runPending` steps deferred work in tests;
 * - XsLocalHandle: an in-process privileged (or domain) connection for TypeScript code;
 * - XsSocketServer: the Unix socket host tools (xenstore-utils) connect to;
 * - XsEventChannel / XsPlatform: what the event-channel layer and the host provide;
 * - domain_tree helpers: the per-domain and per-device trees the toolstack writes.
 */
export { XenStored, type XenStoredOptions } from './xenstored.ts';
export { XsLocalHandle, XsRequestError, type XsWatchCallback } from './local_handle.ts';
export { XsSocketServer } from './socket_server.ts';
export { RingTransport, XS_SERVER_FEATURES, type XsEventChannel } from './domain_ring.ts';
export { asRingMemory, copyingMemory, pageMemory, type CopyingPage, type XsRingMemory } from './ring_memory.ts';
export { DomainTable, XsDomain, type XsDomainState, type XsPlatform } from './domain.ts';
export { defaultQuotas, type XsQuotas } from './quota.ts';
export { checkStore } from './store_check.ts';
export type { Connection, XsTransport } from './connection.ts';
export {
  createDevice, createDomainTree, removeDevice, removeDomainTree, withTransaction, backendPath, frontendPath, vmPath,
  type DeviceSpec, type DomainTreeSpec,
} from './domain_tree.ts';
export { XsClient, type XsByteChannel, type XsReply } from './xs_client.ts';
export { RingFrontend, type XsGuestEventChannel } from './ring_frontend.ts';
