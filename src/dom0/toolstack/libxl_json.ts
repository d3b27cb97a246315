/**
 * `xl list -l`: a domain's configuration as libxl's libxl_domain_config JSON (the shape
 * xl prints: c_info, b_info, disks, nics, on_* actions), from what the toolstack knows of
 * the live domain: its config, its current memory target, vCPUs, scheduling parameters
 * and attached devices (with the MACs chosen at creation). `xl create -n` prints the same
 * for a config not yet created (`dryRunDomainConfig`): what the file asks for, no MAC or
 * UUID chosen yet.
 *
 * Invariants: like libxl's generator, fields at their defaults are left out, so a field
 * present says the domain was configured that way; key order follows libxl_types.idl.
 */
import type { Guest } from './guest.ts';
import type { OnAction, PvGuestConfig } from './xl_config.ts';
import type { DiskSpec } from './xl_disk.ts';
import type { VifSpec } from './xl_vif.ts';
import { formatMac } from './xl_values.ts';

export interface LiveDomainFacts {
  readonly targetKiB: number;
  readonly maxKiB: number;
  /** vCPUs online now. */
  readonly onlineVcpus: readonly number[];
  readonly weight: number | null;
  readonly cap: number | null;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const ACTION: Record<OnAction, string> = {
  destroy: 'destroy', restart: 'restart', 'rename-restart': 'restart_rename', preserve: 'preserve',
  'coredump-destroy': 'coredump_destroy', 'coredump-restart': 'coredump_restart', 'soft-reset': 'soft_reset',
};

/** What the JSON is made from: a guest, or a config with the devices it asks for. */
interface DomainView {
  readonly config: PvGuestConfig;
  readonly name: string;
  readonly uuid: string | null;
  readonly devices: ReadonlyArray<
    | { readonly type: 'vbd'; readonly disk: DiskSpec }
    | { readonly type: 'vif'; readonly devid: number; readonly vif: VifSpec; readonly mac: Uint8Array | null }>;
}

export function libxlDomainConfig(g: Guest, live: LiveDomainFacts): { [k: string]: Json } {
  return domainConfigJson(g, live);
}

/** `xl create -n`: the config as libxl would receive it (memory and vCPUs as configured). */
export function dryRunDomainConfig(c: PvGuestConfig): { [k: string]: Json } {
  const devices: DomainView['devices'] = [
    ...c.disks.map((disk) => ({ type: 'vbd' as const, disk })),
    ...c.vifs.map((vif, i) => ({ type: 'vif' as const, devid: vif.devid ?? i, vif, mac: vif.mac })),
  ];
  return domainConfigJson({ config: c, name: c.name, uuid: c.uuid, devices }, {
    targetKiB: c.memoryMiB * 1024, maxKiB: c.maxmemMiB * 1024, onlineVcpus: Array.from({ length: c.vcpus }, (_, i) => i),
    weight: c.cpuWeight, cap: c.cap,
  });
}

function domainConfigJson(g: DomainView, live: LiveDomainFacts): { [k: string]: Json } {
  const c = g.config;
  const pv: { [k: string]: Json } = { kernel: c.kernel };
  if (c.cmdline !== '') pv.cmdline = c.cmdline;
  if (c.ramdisk !== null) pv.ramdisk = c.ramdisk;
  const sched: { [k: string]: Json } = {};
  if (live.weight !== null) sched.weight = live.weight;
  if (live.cap !== null && live.cap !== 0) sched.cap = live.cap;
  const bInfo: { [k: string]: Json } = {
    max_vcpus: c.maxvcpus, avail_vcpus: [...live.onlineVcpus], max_memkb: live.maxKiB, target_memkb: live.targetKiB,
    sched_params: sched, 'type.pv': pv,
  };
  if (c.maxEventChannels !== null) bInfo.event_channels = c.maxEventChannels;
  const disks: Json[] = [];
  const nics: Json[] = [];
  for (const d of g.devices) {
    if (d.type === 'vbd') {
      const disk: { [k: string]: Json } = { pdev_path: d.disk.target, vdev: d.disk.vdev, format: d.disk.format };
      if (d.disk.readwrite) disk.readwrite = 1;
      if (d.disk.cdrom) disk.is_cdrom = 1;
      disks.push(disk);
    } else {
      const nic: { [k: string]: Json } = { devid: d.devid };
      if (d.mac !== null) nic.mac = formatMac(d.mac);
      nic.bridge = d.vif.bridge;
      if (d.vif.ip !== null) nic.ip = d.vif.ip;
      nic.script = d.vif.script ?? 'vif-bridge';
      nic.nictype = 'vif';
      nics.push(nic);
    }
  }
  const out: { [k: string]: Json } = {
    c_info: { type: 'pv', name: g.name, ...(g.uuid !== null ? { uuid: g.uuid } : {}), run_hotplug_scripts: 'True' },
    b_info: bInfo,
  };
  if (disks.length > 0) out.disks = disks;
  if (nics.length > 0) out.nics = nics;
  out.on_poweroff = ACTION[c.onPoweroff];
  out.on_reboot = ACTION[c.onReboot];
  out.on_watchdog = ACTION[c.onWatchdog];
  out.on_crash = ACTION[c.onCrash];
  out.on_soft_reset = ACTION[c.onSoftReset];
  return out;
}

/** JSON the way libxl's yajl generator beautifies it (4 spaces, `"key": value`). */
export function libxlJsonText(v: Json): string {
  return JSON.stringify(v, null, 4);
}
