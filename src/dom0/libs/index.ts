/**
 * The device-channel libraries of native domains (dom0 and driver domains), the roles of
 * Xen's libxenevtchn, libxengnttab, libxengntshr and libxenstore. Each takes the domain's
 * Xc (its hypercall port) and Dom0Events (its upcall demultiplexer): nothing is global, so
 * a backend built on them runs in any native domain.
 */
export { XenEvtchn, XenEvtchnError, type EvtchnHandler, type EvtchnStatus } from './evtchn.ts';
export { XenGnttab, GrantMapping, XenGnttabError, gntstMessage, BATCH, type GrantCopyOp, type GrantCopySide } from './gnttab.ts';
export { XenGntshr, type SharedPage } from './gntshr.ts';
export { Dom0Pages } from './pages.ts';
export { openRingStore, viewRingMemory } from './xenstore.ts';
export { seedReservedGrants, type ReservedGrants } from './gnttab_seed.ts';
