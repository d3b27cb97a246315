/**
 * The device side of domain creation, hot plug and teardown, as the toolstack sees it:
 * the backends' device API (docs/split-drivers.md, `SplitDrivers`) described structurally,
 * so the toolstack depends on the contract and not on the backends' module, plus the
 * toolstack's own bookkeeping of what each domain has attached.
 *
 * Invariants: a device is recorded from a successful attach until its detach or the
 * domain's release; the xl-level identity of a vbd is its vdev (devid = virtual-device
 * number), of a vif its devid (lowest free, or vif devid=) and its MAC.
 */
import type { DiskSpec } from './xl_disk.ts';
import type { VifSpec } from './xl_vif.ts';

export interface DeviceHandle {
  readonly devid: number;
  /** Backend InitWait (hotplug done); rejects with the hotplug error. */
  readonly ready: Promise<void>;
  readonly connected: Promise<void>;
}

export interface DeviceDrivers {
  attachVbd(domid: number, spec: { target: string; vdev: string; access?: 'rw' | 'r'; devtype?: 'disk' | 'cdrom' }): DeviceHandle;
  attachVif(domid: number, spec: { mac?: string; devid?: number; bridge?: string; restrictSource?: boolean }): DeviceHandle;
  detach(domid: number, type: 'vbd' | 'vif', devid: number, opts?: { force?: boolean }): Promise<void>;
  releaseDomain(domid: number): void;
}

export type AttachedDevice =
  | { readonly type: 'vbd'; readonly devid: number; readonly disk: DiskSpec; readonly handle: DeviceHandle }
  | { readonly type: 'vif'; readonly devid: number; readonly vif: VifSpec; readonly mac: Uint8Array; readonly handle: DeviceHandle };

/** libxl's MAC for a vif without mac=: Xen's OUI 00:16:3e and three random bytes. */
export function randomXenMac(randomByte: () => number): Uint8Array {
  return Uint8Array.of(0x00, 0x16, 0x3e, randomByte() & 0x7f, randomByte() & 0xff, randomByte() & 0xff);
}
