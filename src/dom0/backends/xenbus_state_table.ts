/**
 * The backend half of the xenbus handshake as a transition table: given the backend's own
 * state, the frontend's state, the backend's `online` flag and how its hotplug step went,
 * what the backend does next. Pure; xenbus_backend.ts applies the actions and re-evaluates
 * until the answer is `none`, so coalesced watch events (a frontend that went 6 -> 1 -> 4
 * between two looks) still end in the right place.
 *
 * Sources: xenstore.md §10 (canonical startup, the variants real frontends use, close and
 * unplug), pv-devices.md §3.5/§4.4; Linux blkback/netback `frontend_changed`.
 *
 * Rows: the backend's state. Columns: the frontend's. `off` = online is 0 (being unplugged).
 *
 *   backend \ frontend   0 gone   1 Init     2 InitWait 3 Initd    4 Conn     5 Closing  6 Closed
 *   1 Initialising       remove   probe/fail (hotplug ok -> probe, failed -> fail, pending -> none)
 *   2 InitWait           remove   -          -          connect    connect    closing    closed|off:remove
 *   4 Connected          remove   reprobe    -          -          -          closing    closed|off:remove
 *   5 Closing            remove   reprobe|off:remove -  -          -          closing    closed|off:remove
 *   6 Closed             remove   reprobe|off:remove -  reprobe|off:- reprobe|off:- -     -|off:remove
 *
 * - Frontends that write Connected (4) without Initialised (netfront, Mini-OS) connect from
 *   InitWait like Initialised ones; a frontend already at 3/4 when we reach InitWait (Xen
 *   3.0 blkfront, Mini-OS writing state 4 at probe time) connects right after.
 * - A frontend back at Initialising (1) has released its rings: after Closed it asks to
 *   reconnect (reprobe: InitWait again); while being unplugged it is simply done (remove).
 * - 'reprobe' needs a working hotplug; after a failed one the device stays down.
 * - States 7/8 (pciback's) and garbage read as Unknown only when the node is missing;
 *   otherwise an unexpected value is ignored (`none`).
 */
import {
  XenbusStateClosed, XenbusStateClosing, XenbusStateConnected, XenbusStateInitialised, XenbusStateInitialising,
  XenbusStateInitWait, XenbusStateUnknown,
} from '../../abi/io/xenbus.ts';

export type BackendAction =
  | 'none'
  /** Publish features, go InitWait. */
  | 'probe'
  /** The hotplug step failed: hotplug-status = error, go Closing. */
  | 'fail'
  /** Read the frontend's ring details, map and bind, go Connected (a bad frontend: Closing). */
  | 'connect'
  /** Disconnect, go InitWait again (the frontend restarts its handshake). */
  | 'reprobe'
  /** Disconnect, go Closing. */
  | 'closing'
  /** Disconnect, go Closed. */
  | 'closed'
  /** Disconnect, go Closed, and forget the device. */
  | 'remove';

export type HotplugState = 'pending' | 'ok' | 'failed';

export interface BackendInputs {
  /** The state this backend last wrote. */
  readonly backend: number;
  /** The frontend's state node (Unknown if missing). */
  readonly frontend: number;
  readonly online: boolean;
  readonly hotplug: HotplugState;
}

export function backendAction(i: BackendInputs): BackendAction {
  const fe = i.frontend;
  if (fe === XenbusStateUnknown) return 'remove';
  const offClosed = fe === XenbusStateClosed ? (i.online ? 'closed' : 'remove') : null;
  switch (i.backend) {
    case XenbusStateInitialising:
      if (!i.online && fe === XenbusStateClosed) return 'remove';
      return i.hotplug === 'ok' ? 'probe' : i.hotplug === 'failed' ? 'fail' : 'none';
    case XenbusStateInitWait:
      if (fe === XenbusStateInitialised || fe === XenbusStateConnected) return 'connect';
      if (fe === XenbusStateClosing) return 'closing';
      return offClosed ?? 'none';
    case XenbusStateConnected:
      if (fe === XenbusStateInitialising) return reprobe(i);
      if (fe === XenbusStateClosing) return 'closing';
      return offClosed ?? 'none';
    case XenbusStateClosing:
      if (fe === XenbusStateInitialising) return i.online ? reprobe(i) : 'remove';
      if (fe === XenbusStateClosing) return 'closing';
      if (offClosed !== null) return offClosed;
      return 'none';
    case XenbusStateClosed:
      if (fe === XenbusStateInitialising) return i.online ? reprobe(i) : 'remove';
      if (fe === XenbusStateInitialised || fe === XenbusStateConnected) return i.online ? reprobe(i) : 'none';
      if (fe === XenbusStateClosed && !i.online) return 'remove';
      return 'none';
    default:
      return 'none';
  }
}

function reprobe(i: BackendInputs): BackendAction {
  return i.hotplug === 'ok' ? 'reprobe' : 'none';
}

/** The backend state an action leaves behind ('none' keeps the current one). */
export function stateAfter(a: BackendAction, current: number): number {
  switch (a) {
    case 'probe':
    case 'reprobe':
      return XenbusStateInitWait;
    case 'fail':
    case 'closing':
      return XenbusStateClosing;
    case 'connect':
      return XenbusStateConnected;
    case 'closed':
    case 'remove':
      return XenbusStateClosed;
    default:
      return current;
  }
}
