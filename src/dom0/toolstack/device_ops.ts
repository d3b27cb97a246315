/**
 * Devices of a guest through the backends' device API (docs/split-drivers.md): the disks
 * and vifs of its config at creation, xl's block-attach/-detach/-list and
 * network-attach/-detach/-list while it runs, and forced release at teardown.
 *
 * Invariants: a guest's `devices` lists exactly the devices attached through here and not
 * yet detached; a disk is refused before any xenstore node is written if its image cannot
 * be opened (libxl's hotplug step fails the same way, but asynchronously); vif devids are
 * the config index, or the lowest free one for network-attach, as libxl numbers them.
 */
import { accessSync, constants } from 'node:fs';
import type { XsLocalHandle } from '../xenstored/local_handle.ts';
import type { DiskSpec } from './xl_disk.ts';
import type { VifSpec } from './xl_vif.ts';
import type { Guest } from './guest.ts';
import { randomXenMac, type AttachedDevice, type DeviceDrivers } from './devices.ts';
import { formatMac } from './xl_values.ts';
import { XlError } from './xl_error.ts';

export type { DeviceDrivers };

/** What the device operations need from the toolstack. */
export interface DeviceContext {
  readonly store: XsLocalHandle | null;
  readonly random: (n: number) => Uint8Array;
  log(line: string): void;
}

/** Attach the disk= and vif= devices of a new guest's config (throws XlError on a bad one). */
export function attachConfiguredDevices(ctx: DeviceContext, g: Guest, drivers: DeviceDrivers): void {
  for (const d of g.config.disks) attachDisk(ctx, g, drivers, d);
  g.config.vifs.forEach((v, i) => attachNic(ctx, g, drivers, v, v.devid ?? i));
}

function watchReady(ctx: DeviceContext, g: Guest, what: string, dev: AttachedDevice): void {
  dev.handle.ready.catch((e: unknown) => {
    ctx.log(`libxl: error: Domain ${g.domid}:${what}: hotplug failed: ${e instanceof Error ? e.message : String(e)}`);
  });
}

export function attachDisk(ctx: DeviceContext, g: Guest, drivers: DeviceDrivers, d: DiskSpec): AttachedDevice {
  if (d.devid === null) throw new XlError(`vdev \`${d.vdev}' is not a virtual disk name`);
  if (g.devices.some((x) => x.type === 'vbd' && x.devid === d.devid)) {
    throw new XlError(`libxl: error: Domain ${g.domid}:device vbd ${d.vdev} (${d.devid}) already exists`);
  }
  if (d.target === '') throw new XlError(`disk ${d.vdev}: empty cdrom drives are not supported`);
  try {
    accessSync(d.target, d.readwrite ? constants.R_OK | constants.W_OK : constants.R_OK);
  } catch (e) {
    throw new XlError(`libxl: error: Domain ${g.domid}:disk ${d.vdev}: cannot open ${d.target}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const handle = drivers.attachVbd(g.domid, {
    target: d.target, vdev: d.vdev, access: d.readwrite ? 'rw' : 'r', devtype: d.cdrom ? 'cdrom' : 'disk',
  });
  const dev: AttachedDevice = { type: 'vbd', devid: handle.devid, disk: d, handle };
  g.devices.push(dev);
  watchReady(ctx, g, `vbd ${d.vdev}`, dev);
  return dev;
}

/** The lowest vif devid the guest does not use (libxl's choice without devid=). */
export function freeVifDevid(g: Guest): number {
  for (let i = 0; ; i++) if (!g.devices.some((x) => x.type === 'vif' && x.devid === i)) return i;
}

export function attachNic(ctx: DeviceContext, g: Guest, drivers: DeviceDrivers, v: VifSpec, devid = v.devid ?? freeVifDevid(g)): AttachedDevice {
  if (g.devices.some((x) => x.type === 'vif' && x.devid === devid)) {
    throw new XlError(`libxl: error: Domain ${g.domid}:device vif ${devid} already exists`);
  }
  const mac = v.mac ?? randomXenMac(() => ctx.random(1)[0]!);
  const handle = drivers.attachVif(g.domid, { mac: formatMac(mac), devid, bridge: v.bridge, restrictSource: true });
  const dev: AttachedDevice = { type: 'vif', devid: handle.devid, vif: v, mac, handle };
  g.devices.push(dev);
  watchReady(ctx, g, `vif ${devid}`, dev);
  return dev;
}

/** Hot unplug (libxl_device_*_remove, or _destroy with force). */
export async function detachDevice(g: Guest, drivers: DeviceDrivers, type: 'vbd' | 'vif', devid: number, force: boolean): Promise<void> {
  const i = g.devices.findIndex((x) => x.type === type && x.devid === devid);
  if (i < 0) throw new XlError(type === 'vbd' ? `Error: Device ${devid} not connected.` : `Unknown device ${devid}.`);
  await drivers.detach(g.domid, type, devid, { force });
  const j = g.devices.findIndex((x) => x.type === type && x.devid === devid);
  if (j >= 0) g.devices.splice(j, 1);
}

/** Teardown: every device of the guest, forced (libxl__devices_destroy). */
export function releaseDevices(drivers: DeviceDrivers, g: Guest): void {
  drivers.releaseDomain(g.domid);
  g.devices.length = 0;
}

export interface BlockListRow {
  readonly vdev: number;
  readonly backendId: number;
  readonly handle: number;
  readonly state: number;
  readonly evtch: number;
  readonly ringRef: number;
  readonly backendPath: string;
}

export interface NetworkListRow {
  readonly idx: number;
  readonly backendId: number;
  readonly mac: string;
  readonly handle: number;
  readonly state: number;
  readonly evtch: number;
  readonly txRingRef: number;
  readonly rxRingRef: number;
  readonly backendPath: string;
}

function num(xs: XsLocalHandle | null, path: string): number {
  const v = xs?.tryRead(path);
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : -1;
}

/** libxl_device_disk_getinfo for each vbd (values the frontend published; -1 if not yet). */
export function blockList(store: XsLocalHandle | null, g: Guest): BlockListRow[] {
  return g.devices.filter((d) => d.type === 'vbd').map((d) => {
    const fe = `/local/domain/${g.domid}/device/vbd/${d.devid}`;
    const rref = num(store, `${fe}/ring-ref`);
    return {
      vdev: d.devid, backendId: Math.max(0, num(store, `${fe}/backend-id`)), handle: g.domid,
      state: num(store, `${fe}/state`), evtch: num(store, `${fe}/event-channel`),
      ringRef: rref >= 0 ? rref : num(store, `${fe}/ring-ref0`),
      backendPath: store?.tryRead(`${fe}/backend`) ?? '',
    };
  });
}

/** libxl_device_nic_getinfo for each vif. */
export function networkList(store: XsLocalHandle | null, g: Guest): NetworkListRow[] {
  return g.devices.filter((d) => d.type === 'vif').map((d) => {
    const fe = `/local/domain/${g.domid}/device/vif/${d.devid}`;
    return {
      idx: d.devid, backendId: Math.max(0, num(store, `${fe}/backend-id`)), mac: d.type === 'vif' ? formatMac(d.mac) : '',
      handle: d.devid, state: num(store, `${fe}/state`), evtch: num(store, `${fe}/event-channel`),
      txRingRef: num(store, `${fe}/tx-ring-ref`), rxRingRef: num(store, `${fe}/rx-ring-ref`),
      backendPath: store?.tryRead(`${fe}/backend`) ?? '',
    };
  });
}
