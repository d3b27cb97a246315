/**
 * Xenbus device states (io/xenbus.h; C header: xen/io/xenbus.h): the values of every
 * frontend and backend `state` node, written as decimal text.
 *
 * Handshake (blkif.h's diagram): both start at Initialising; the backend publishes its
 * features and goes InitWait; the frontend sets up rings and goes Initialised (netfront
 * and Mini-OS jump straight to Connected); the backend maps, binds and goes Connected; the
 * frontend follows. Closing → Closed tears down; a frontend back at Initialising after
 * Closed asks to reconnect. Reconfiguring/Reconfigured are pciback's only.
 *
 * Invariant: a missing or unparseable node reads as XenbusStateUnknown.
 */
import { cEnum } from '../layout.ts';

export const XenbusStateUnknown = 0;
export const XenbusStateInitialising = 1;
/** Early init done; waiting for the peer or hotplug information. */
export const XenbusStateInitWait = 2;
/** Rings set up; waiting for the peer to connect. */
export const XenbusStateInitialised = 3;
export const XenbusStateConnected = 4;
/** The device is being closed. */
export const XenbusStateClosing = 5;
export const XenbusStateClosed = 6;
/** pciback only. */
export const XenbusStateReconfiguring = 7;
export const XenbusStateReconfigured = 8;

export const xenbus_state = cEnum('xenbus_state', {
  XenbusStateUnknown, XenbusStateInitialising, XenbusStateInitWait, XenbusStateInitialised,
  XenbusStateConnected, XenbusStateClosing, XenbusStateClosed, XenbusStateReconfiguring,
  XenbusStateReconfigured,
}, 'XenbusState');

/** Parse a `state` node's value; anything but a decimal 0..8 is Unknown. */
export function parseXenbusState(value: string): number {
  if (!/^[0-8]$/.test(value.trim())) return XenbusStateUnknown;
  return Number(value.trim());
}
