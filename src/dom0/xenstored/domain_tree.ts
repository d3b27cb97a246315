/**
 * The per-domain and per-device trees the toolstack writes (xenstore.md §9, libxl's
 * layout), through a privileged handle so watches fire as for any other writer. Each
 * helper runs in one transaction, retried on EAGAIN, so a domain or a backend never sees
 * half a tree.
 *
 * Permissions (owner first):
 *   /local/domain/<id>                         n0 r<id>   (dom0 owns, the domain reads)
 *     name domid vm memory/ cpu/ store/ console/ device/ control/   read-only to the domain
 *     control/shutdown control/sysrq control/feature-*            n<id> (the domain owns)
 *     device/suspend/event-channel                                n<id>
 *     data/ drivers/ feature/ attr/ error/                        n<id>
 *   /vm/<uuid>                                 n0 r<id>
 *   frontend  /local/domain/<front>/device/<type>/<devid>               n<front> r<back>
 *   backend   /local/domain/<back>/backend/<btype>/<front>/<devid>      n<back> r<front>
 */
import type { DomId, EvtchnPort, Gfn } from '../../abi/types.ts';
import type { XsLocalHandle } from './local_handle.ts';
import { domainPath } from './path.ts';
import { withTransaction } from './with_transaction.ts';

export interface DomainTreeSpec {
  readonly domid: DomId;
  readonly name: string;
  /** Canonical UUID text; the VM directory is /vm/<uuid>. */
  readonly uuid: string;
  /** Balloon target and static maximum, KiB. */
  readonly memoryKiB: number;
  readonly maxMemoryKiB?: number;
  readonly vcpus?: number;
  readonly hvm?: boolean;
  readonly videoramKiB?: number;
  /** The xenstore ring frame (MFN for PV, PFN for HVM) and port, as given to xenstored. */
  readonly store?: { readonly gfn: Gfn; readonly port: EvtchnPort };
  /** The first PV console's ring frame (same naming) and port. */
  readonly console?: { readonly gfn: Gfn; readonly port: EvtchnPort; readonly limit?: number };
}

export interface DeviceSpec {
  readonly front: DomId;
  readonly back: DomId;
  /** Frontend device type: vbd, vif, console, vfb, vkbd, ... */
  readonly type: string;
  /** Backend type when it differs (qdisk, tap for block); default `type`. */
  readonly backendType?: string;
  readonly devid: number;
  /** Type-specific frontend keys (virtual-device, device-type, mac, handle, ...). */
  readonly frontEntries?: Readonly<Record<string, string>>;
  /** Type-specific backend keys (params, mode, type, mac, bridge, ...). */
  readonly backEntries?: Readonly<Record<string, string>>;
}

/** XenbusStateInitialising: where both ends of a new device start. */
const XENBUS_STATE_INITIALISING = '1';
/** libxl's default console output buffer limit, bytes. */
const CONSOLE_LIMIT = 1048576;

export { withTransaction };

export function vmPath(uuid: string): string {
  return `/vm/${uuid}`;
}

export function frontendPath(s: DeviceSpec): string {
  return `${domainPath(s.front)}/device/${s.type}/${s.devid}`;
}

export function backendPath(s: DeviceSpec): string {
  return `${domainPath(s.back)}/backend/${s.backendType ?? s.type}/${s.front}/${s.devid}`;
}

/** Create /local/domain/<id> and /vm/<uuid> for a new domain. */
export function createDomainTree(xs: XsLocalHandle, s: DomainTreeSpec): void {
  const home = domainPath(s.domid);
  const ro = ['n0', `r${s.domid}`];
  const rw = [`n${s.domid}`];
  const vm = vmPath(s.uuid);
  withTransaction(xs, (tx) => {
    const node = (path: string, value: string, perms: readonly string[]): void => {
      xs.write(path, value, tx);
      xs.setPerms(path, perms, tx);
    };
    // Remove leftovers of an earlier domain with this id first: it must not inherit them.
    xs.rm(home, tx);
    node(home, '', ro);
    node(vm, '', ro);
    node(`${vm}/uuid`, s.uuid, ro);
    node(`${vm}/name`, s.name, ro);
    node(`${home}/name`, s.name, ro);
    node(`${home}/domid`, String(s.domid), ro);
    node(`${home}/vm`, vm, ro);
    node(`${home}/memory`, '', ro);
    node(`${home}/memory/target`, String(s.memoryKiB), ro);
    node(`${home}/memory/static-max`, String(s.maxMemoryKiB ?? s.memoryKiB), ro);
    if (s.hvm === true) node(`${home}/memory/videoram`, String(s.videoramKiB ?? 0), ro);
    node(`${home}/cpu`, '', ro);
    for (let i = 0; i < (s.vcpus ?? 1); i++) node(`${home}/cpu/${i}/availability`, 'online', ro);
    node(`${home}/device`, '', ro);
    node(`${home}/device/suspend/event-channel`, '', rw);
    node(`${home}/control`, '', ro);
    node(`${home}/control/platform-feature-multiprocessor-suspend`, '1', ro);
    node(`${home}/control/platform-feature-xs_reset_watches`, '1', ro);
    for (const k of ['shutdown', 'sysrq', 'feature-poweroff', 'feature-reboot', 'feature-suspend']) {
      node(`${home}/control/${k}`, '', rw);
    }
    for (const k of ['data', 'drivers', 'feature', 'attr', 'error']) node(`${home}/${k}`, '', rw);
    if (s.store !== undefined) {
      node(`${home}/store/ring-ref`, String(s.store.gfn), ro);
      node(`${home}/store/port`, String(s.store.port), ro);
    }
    if (s.console !== undefined) {
      node(`${home}/console/ring-ref`, String(s.console.gfn), ro);
      node(`${home}/console/port`, String(s.console.port), ro);
      node(`${home}/console/limit`, String(s.console.limit ?? CONSOLE_LIMIT), ro);
      node(`${home}/console/type`, 'xenconsoled', ro);
    }
  });
}

/** Remove a destroyed domain's trees (its home and VM directory). */
export function removeDomainTree(xs: XsLocalHandle, domid: DomId, uuid: string): void {
  withTransaction(xs, (tx) => {
    xs.rm(domainPath(domid), tx);
    xs.rm(vmPath(uuid), tx);
  });
}

/** Create both ends of a split device, each at XenbusStateInitialising. */
export function createDevice(xs: XsLocalHandle, s: DeviceSpec): { frontend: string; backend: string } {
  const fe = frontendPath(s);
  const be = backendPath(s);
  withTransaction(xs, (tx) => {
    xs.write(fe, '', tx);
    xs.setPerms(fe, [`n${s.front}`, `r${s.back}`], tx);
    xs.write(be, '', tx);
    xs.setPerms(be, [`n${s.back}`, `r${s.front}`], tx);
    const frontEntries: Record<string, string> = {
      backend: be, 'backend-id': String(s.back), state: XENBUS_STATE_INITIALISING, ...s.frontEntries,
    };
    const backEntries: Record<string, string> = {
      frontend: fe, 'frontend-id': String(s.front), online: '1', state: XENBUS_STATE_INITIALISING, ...s.backEntries,
    };
    // Entries copy their directory's permissions (dom0 creating keeps the owner).
    for (const [k, v] of Object.entries(frontEntries)) xs.write(`${fe}/${k}`, v, tx);
    for (const [k, v] of Object.entries(backEntries)) xs.write(`${be}/${k}`, v, tx);
  });
  return { frontend: fe, backend: be };
}

/** Remove both ends of a device (after the backend reached Closed, or forcibly). */
export function removeDevice(xs: XsLocalHandle, s: DeviceSpec): void {
  withTransaction(xs, (tx) => {
    xs.rm(frontendPath(s), tx);
    xs.rm(backendPath(s), tx);
  });
}
