/**
 * xl.cfg(5) for PV guests: the typed domain configuration `xl create` builds from the
 * parsed settings (xl_cfg_syntax.ts), with xl's defaults and xl's error wording, every
 * error naming the file, the line and the key.
 *
 * Keys acted on: name, uuid, type/builder, kernel, ramdisk, cmdline/root/extra, memory,
 * maxmem, vcpus, maxvcpus, cpus, cpus_soft, cpu_weight, cap, on_poweroff/on_reboot/
 * on_crash/on_watchdog/on_soft_reset, disk (xl_disk.ts), vif (xl_vif.ts), ioports,
 * max_event_channels, max_grant_frames, max_maptrack_frames.
 * Keys xl knows that change nothing for a PV guest here (serial, boot, vnc, ...) and keys
 * nobody knows are kept in `ignored` and reported as warnings, as the brief of xl.cfg asks:
 * an unknown key is never fatal, a bad value always is.
 *
 * Defaults (libxl): memory 32 MiB (maxmem = memory when only memory is set, memory =
 * maxmem when only maxmem is), vcpus 1, maxvcpus = vcpus, on_poweroff destroy, on_reboot
 * restart, on_crash destroy, on_watchdog destroy, on_soft_reset soft-reset.
 */
import { parseDiskSpec, type DiskSpec, DiskSpecError, formatDiskSpec } from './xl_disk.ts';
import { parseVifSpec, type VifSpec, VifSpecError } from './xl_vif.ts';
import { formatMac } from './xl_values.ts';
import { XlConfigError, XlSettings, parseXlConfig, applyXlOverrides, type XlValue } from './xl_cfg_syntax.ts';

export { XlConfigError, XlSettings, parseXlConfig, applyXlOverrides, type XlValue };

export type OnAction = 'destroy' | 'restart' | 'preserve' | 'rename-restart' | 'coredump-destroy' | 'coredump-restart' | 'soft-reset';

export const ON_ACTIONS: readonly OnAction[] = [
  'destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset',
];

export interface PvGuestConfig {
  readonly name: string;
  /** The domain handle from `uuid=` (null: a fresh random one at each creation). */
  readonly uuid: string | null;
  readonly kernel: string;
  readonly ramdisk: string | null;
  readonly memoryMiB: number;
  readonly maxmemMiB: number;
  readonly vcpus: number;
  readonly maxvcpus: number;
  readonly cmdline: string;
  /** Hard affinity: one CPU set for every vCPU (a string) or one per vCPU (a list). */
  readonly cpus: string | readonly string[] | null;
  readonly cpusSoft: string | readonly string[] | null;
  readonly cpuWeight: number | null;
  readonly cap: number | null;
  readonly onPoweroff: OnAction;
  readonly onReboot: OnAction;
  readonly onCrash: OnAction;
  readonly onWatchdog: OnAction;
  readonly onSoftReset: OnAction;
  readonly disks: readonly DiskSpec[];
  readonly vifs: readonly VifSpec[];
  /** I/O port ranges granted to the guest (ioports=["IOPORT_FROM[-IOPORT_TO]", ...], hex). */
  readonly ioports: ReadonlyArray<readonly [number, number]>;
  /** max_event_channels (the highest port), max_grant_frames, max_maptrack_frames; null: the defaults. */
  readonly maxEventChannels: number | null;
  readonly maxGrantFrames: number | null;
  readonly maxMaptrackFrames: number | null;
  /** Settings this toolstack does not act on (reported, not fatal). */
  readonly ignored: readonly string[];
  /** One line per ignored or questionable setting, `file:line: warning: ...`. */
  readonly warnings: readonly string[];
}

/** Keys xl accepts that only mean something for HVM guests or other toolstack features. */
const KNOWN_NOT_ACTED_ON: Record<string, string> = {
  serial: 'only HVM guests have an emulated serial port',
  boot: 'only HVM guests boot from emulated devices',
  vnc: 'no framebuffer for PV guests here', vnclisten: 'no framebuffer', vncdisplay: 'no framebuffer',
  vncunused: 'no framebuffer', vncpasswd: 'no framebuffer', sdl: 'no framebuffer', vfb: 'no framebuffer',
  vkb: 'no virtual keyboard', keymap: 'no framebuffer', stdvga: 'HVM only', videoram: 'HVM only',
  acpi: 'HVM only', apic: 'HVM only', pae: 'HVM only', hap: 'HVM only', viridian: 'HVM only', usb: 'HVM only',
  usbdevice: 'HVM only', soundhw: 'HVM only', device_model_version: 'no device model for PV guests',
  device_model_override: 'no device model for PV guests', bootloader: 'no bootloader: give kernel=',
  bootloader_args: 'no bootloader', pci: 'no PCI passthrough', irqs: 'no physical IRQs', iomem: 'no I/O memory',
  seclabel: 'no XSM/FLASK', init_seclabel: 'no XSM/FLASK', pool: 'one CPU pool (Pool-0)', localtime: 'HVM only',
  rtc_timeoffset: 'HVM only', nomigrate: 'no migration', tsc_mode: 'the TSC is always native here', e820_host: 'no host e820',
  driver_domain: 'driver domains are not supported yet', vtpm: 'no vTPM', channel: 'no channels', p9: 'no 9pfs',
  cpuid: 'CPUID policy is fixed', shadow_memory: 'HVM only', on_xend_start: 'xend only', on_xend_stop: 'xend only',
  vif2: 'netchannel2 is gone', vscsi: 'no PV SCSI', extratime: 'credit scheduler only', period: 'RTDS only',
  slice: 'RTDS only', latency: 'RTDS only', claim_mode: 'no claims', device_tree: 'ARM only', vuart: 'ARM only',
};

const ACTED_ON = new Set([
  'name', 'uuid', 'type', 'builder', 'kernel', 'ramdisk', 'cmdline', 'extra', 'root', 'memory', 'maxmem', 'vcpus',
  'maxvcpus', 'cpus', 'cpus_soft', 'cpu_weight', 'cap', 'on_poweroff', 'on_reboot', 'on_crash', 'on_watchdog',
  'on_soft_reset', 'disk', 'vif', 'ioports', 'max_event_channels', 'max_grant_frames', 'max_maptrack_frames',
]);

/** The typed PV-guest view of parsed settings; throws XlConfigError (file:line: key: ...). */
export function pvConfig(input: Map<string, XlValue>): PvGuestConfig {
  const cfg = input instanceof XlSettings ? input : new XlSettings('config', input);
  const fail = (key: string, msg: string): never => {
    throw new XlConfigError(`${cfg.at(key)}: ${key}: ${msg}`);
  };
  const warnings: string[] = [];
  const str = (k: string): string | null => {
    const v = cfg.get(k);
    if (v === undefined) return null;
    if (Array.isArray(v)) return fail(k, 'is a list but should be a single value');
    return String(v);
  };
  const long = (k: string, min: number, max: number): number | null => {
    const v = cfg.get(k);
    if (v === undefined) return null;
    if (Array.isArray(v)) return fail(k, 'is a list but should be a single value');
    const t = String(v).trim();
    const n = /^0x[0-9a-fA-F]+$/.test(t) ? parseInt(t, 16) : /^-?\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n)) return fail(k, `parameter \`${k}' is not a valid number (${JSON.stringify(t)})`);
    if (n < min || n > max) return fail(k, `${n} is out of range (${min}..${max})`);
    return n;
  };
  const action = (k: string, dflt: OnAction): OnAction => {
    const a = str(k) ?? dflt;
    if (!(ON_ACTIONS as readonly string[]).includes(a)) {
      return fail(k, `Unknown ${k} action "${a}" specified (one of ${ON_ACTIONS.join(', ')})`);
    }
    return a as OnAction;
  };
  const list = (k: string): string[] | null => {
    const v = cfg.get(k);
    if (v === undefined) return null;
    const items = Array.isArray(v) ? v : [v];
    return items.map((x, i) => {
      if (Array.isArray(x)) return fail(k, `element ${i} is a list but should be a string`);
      return String(x);
    });
  };

  // type / builder (builder is deprecated since Xen 4.10).
  let type = str('type');
  if (type !== null && !['hvm', 'pv', 'pvh'].some((t) => type !== '' && t.startsWith(type!))) fail('type', `Invalid domain type ${type}.`);
  const builder = str('builder');
  if (builder !== null) {
    const bt = builder !== '' && 'hvm'.startsWith(builder) ? 'hvm' : builder !== '' && 'generic'.startsWith(builder) ? 'pv' : null;
    if (bt === null) fail('builder', `Invalid domain type ${builder}.`);
    if (type !== null && !(bt === 'pv' ? 'pv' : 'hvm').startsWith(type)) fail('builder', 'Contradicting "builder" and "type" options specified.');
    type = bt;
  }
  type = type === null ? 'pv' : ['hvm', 'pv', 'pvh'].find((t) => t.startsWith(type!))!;
  if (type !== 'pv') fail(cfg.has('type') ? 'type' : 'builder', `type="${type}": only PV guests are supported by tsxen`);

  const name = str('name');
  if (name === null || name === '') return fail('name', 'Domain name must be specified.');
  if (/^\d+$/.test(name)) fail('name', `"${name}": a domain name cannot be all digits (it would read as a domain id)`);
  if (hasBadNameChar(name) || name.length > 64) fail('name', `"${name}": names are up to 64 characters without '/' or control characters`);
  const uuid = str('uuid');
  if (uuid !== null && !/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(uuid)) {
    fail('uuid', `Failed to parse UUID: ${uuid}`);
  }

  const kernel = str('kernel');
  if (kernel === null || kernel === '') {
    fail(cfg.has('bootloader') ? 'bootloader' : 'kernel', 'Neither kernel nor bootloader specified');
  }
  const ramdisk = str('ramdisk');

  let memoryMiB = long('memory', 1, 1 << 20);
  let maxmemMiB = long('maxmem', 1, 1 << 20);
  if (memoryMiB === null && maxmemMiB === null) memoryMiB = maxmemMiB = 32;
  else if (memoryMiB === null) memoryMiB = maxmemMiB;
  else if (maxmemMiB === null) maxmemMiB = memoryMiB;
  if (maxmemMiB! < memoryMiB!) fail('maxmem', `maxmem (${maxmemMiB} MiB) is less than memory (${memoryMiB} MiB)`);

  const vcpus = long('vcpus', 1, 128) ?? 1;
  const maxvcpus = long('maxvcpus', 1, 128) ?? vcpus;
  if (maxvcpus < vcpus) fail('maxvcpus', `xl: maxvcpus < vcpus (${maxvcpus} < ${vcpus})`);

  // Kernel command line: cmdline wins over root/extra (xl warns when both are given).
  let cmdline = str('cmdline');
  const root = str('root'), extra = str('extra');
  if (cmdline !== null) {
    if (root !== null || extra !== null) warnings.push(`${cfg.at('cmdline')}: warning: ignoring root= and extra= in favour of cmdline=`);
  } else {
    cmdline = [root !== null ? `root=${root}` : null, extra].filter((x) => x !== null).join(' ');
  }

  const cpuSpec = (k: string): string | string[] | null => {
    const v = cfg.get(k);
    if (v === undefined) return null;
    if (Array.isArray(v)) return list(k);
    return String(v);
  };

  const weight = long('cpu_weight', 1, 65535);
  const cap = long('cap', 0, 100 * maxvcpus);

  const disks: DiskSpec[] = [];
  for (const [i, spec] of (list('disk') ?? []).entries()) {
    const d = parseDiskSpec(spec);
    if (d instanceof DiskSpecError) fail('disk', d.message);
    const disk = d as DiskSpec; // the error case failed above
    if (disk.devid === null) fail('disk', `element ${i}: vdev \`${disk.vdev}' is not a virtual disk name (xvda, xvdb2, sdb, hdc, d0p1 or a number)`);
    if (disk.format !== 'raw' && disk.format !== 'empty') fail('disk', `element ${i}: format=${disk.format}: tsxen's blkback serves raw images only`);
    if (disk.backend !== null && disk.backend !== '0' && disk.backend !== 'Domain-0') fail('disk', `element ${i}: backend=${disk.backend}: only dom0 runs backends`);
    if (disks.some((o) => o.devid === disk.devid)) fail('disk', `element ${i}: vdev \`${disk.vdev}' is used twice`);
    if (disk.script !== null) warnings.push(`${cfg.at('disk')}: warning: disk: script=${disk.script} is not run (tsxen's blkback opens the image itself)`);
    disks.push(disk);
  }

  const vifs: VifSpec[] = [];
  for (const [i, spec] of (list('vif') ?? []).entries()) {
    const v = parseVifSpec(spec);
    if (v instanceof VifSpecError) fail('vif', `element ${i}: ${v.message}`);
    const vif = v as VifSpec; // the error case failed above
    if (vif.backend !== null && vif.backend !== '0' && vif.backend !== 'Domain-0') fail('vif', `element ${i}: backend=${vif.backend}: only dom0 runs backends`);
    if (vif.bridge !== 'xenbr0') fail('vif', `element ${i}: bridge=${vif.bridge}: the host has one bridge, xenbr0`);
    if (vif.type === 'ioemu') fail('vif', `element ${i}: type=ioemu is for HVM guests`);
    if (vif.mac !== null && vifs.some((o) => o.mac !== null && formatMac(o.mac) === formatMac(vif.mac!))) {
      fail('vif', `element ${i}: mac=${formatMac(vif.mac)} is used twice`);
    }
    if (vif.script !== null) warnings.push(`${cfg.at('vif')}: warning: vif: script=${vif.script} is not run (netback attaches to xenbr0 itself)`);
    for (const u of vif.unsupported) warnings.push(`${cfg.at('vif')}: warning: vif: ${u}= has no effect on tsxen`);
    vifs.push(vif);
  }

  const ioports: Array<[number, number]> = [];
  for (const e of list('ioports') ?? []) {
    const m = /^\s*([0-9a-fA-F]+)\s*(?:-\s*([0-9a-fA-F]+))?\s*$/.exec(e);
    if (!m) fail('ioports', `xl: Invalid argument parsing ioport: ${e}`);
    const first = parseInt(m![1]!, 16), last = m![2] !== undefined ? parseInt(m![2], 16) : first; // m checked above
    if (last < first || last > 0xffff) fail('ioports', `xl: Invalid argument parsing ioport: ${e} (ports are 0-ffff)`);
    ioports.push([first, last]);
  }

  const ignored: string[] = [];
  for (const k of cfg.keys()) {
    if (ACTED_ON.has(k)) continue;
    ignored.push(k);
    const why = KNOWN_NOT_ACTED_ON[k];
    warnings.push(`${cfg.at(k)}: warning: ${why !== undefined ? `\`${k}' ignored: ${why}` : `unknown setting \`${k}' ignored`}`);
  }

  return {
    name, uuid, kernel: kernel!, ramdisk, memoryMiB: memoryMiB!, maxmemMiB: maxmemMiB!, vcpus, maxvcpus, cmdline,
    cpus: cpuSpec('cpus'), cpusSoft: cpuSpec('cpus_soft'), cpuWeight: weight, cap,
    onPoweroff: action('on_poweroff', 'destroy'), onReboot: action('on_reboot', 'restart'),
    onCrash: action('on_crash', 'destroy'), onWatchdog: action('on_watchdog', 'destroy'),
    onSoftReset: action('on_soft_reset', 'soft-reset'),
    disks, vifs, ioports, ignored, warnings,
    maxEventChannels: long('max_event_channels', 1, 131071), maxGrantFrames: long('max_grant_frames', 0, 0x7fffffff),
    maxMaptrackFrames: long('max_maptrack_frames', 0, 0x7fffffff),
  };
}

/** xl.cfg's domain limits as createdomain takes them (undefined: libxl's defaults). */
export function createLimits(cfg: PvGuestConfig): { maxEvtchnPort?: number; maxGrantFrames?: number; maxMaptrackFrames?: number } {
  return {
    maxEvtchnPort: cfg.maxEventChannels ?? undefined, maxGrantFrames: cfg.maxGrantFrames ?? undefined,
    maxMaptrackFrames: cfg.maxMaptrackFrames ?? undefined,
  };
}

/** Quote a string as xl.cfg does ('...' unless it holds a quote). */
function q(s: string): string {
  return s.includes("'") ? JSON.stringify(s) : `'${s}'`;
}

/**
 * A config back as xl.cfg text (what `list -l` shows and what a save file carries): every
 * setting explicit, devices in canonical keyword form, MACs as assigned.
 */
export function formatXlConfig(c: PvGuestConfig, extra: { uuid?: string; macs?: readonly (Uint8Array | null)[] } = {}): string {
  const lines = [
    `name = ${q(c.name)}`, `type = 'pv'`, `kernel = ${q(c.kernel)}`,
    ...(c.ramdisk !== null ? [`ramdisk = ${q(c.ramdisk)}`] : []),
    `cmdline = ${q(c.cmdline)}`, `memory = ${c.memoryMiB}`, `maxmem = ${c.maxmemMiB}`, `vcpus = ${c.vcpus}`,
    `maxvcpus = ${c.maxvcpus}`,
  ];
  const uuid = extra.uuid ?? c.uuid;
  if (uuid !== null) lines.push(`uuid = ${q(uuid)}`);
  const cpu = (k: string, v: string | readonly string[] | null): void => {
    if (v !== null) lines.push(`${k} = ${typeof v === 'string' ? q(v) : `[ ${v.map(q).join(', ')} ]`}`);
  };
  cpu('cpus', c.cpus);
  cpu('cpus_soft', c.cpusSoft);
  if (c.cpuWeight !== null) lines.push(`cpu_weight = ${c.cpuWeight}`);
  if (c.cap !== null) lines.push(`cap = ${c.cap}`);
  lines.push(`on_poweroff = ${q(c.onPoweroff)}`, `on_reboot = ${q(c.onReboot)}`, `on_crash = ${q(c.onCrash)}`,
    `on_watchdog = ${q(c.onWatchdog)}`, `on_soft_reset = ${q(c.onSoftReset)}`);
  if (c.disks.length) lines.push(`disk = [ ${c.disks.map((d) => q(formatDiskSpec(d))).join(', ')} ]`);
  if (c.vifs.length) {
    lines.push(`vif = [ ${c.vifs.map((v, i) => {
      const mac = extra.macs?.[i] ?? v.mac;
      const terms = [`bridge=${v.bridge}`, ...(mac ? [`mac=${formatMac(mac)}`] : []), ...(v.ip ? [`ip=${v.ip}`] : []),
        ...(v.vifname ? [`vifname=${v.vifname}`] : []), ...(v.mtu !== null ? [`mtu=${v.mtu}`] : [])];
      return q(terms.join(','));
    }).join(', ')} ]`);
  }
  if (c.maxEventChannels !== null) lines.push(`max_event_channels = ${c.maxEventChannels}`);
  if (c.maxGrantFrames !== null) lines.push(`max_grant_frames = ${c.maxGrantFrames}`);
  if (c.maxMaptrackFrames !== null) lines.push(`max_maptrack_frames = ${c.maxMaptrackFrames}`);
  if (c.ioports.length) {
    lines.push(`ioports = [ ${c.ioports.map(([a, b]) => q(a === b ? a.toString(16) : `${a.toString(16)}-${b.toString(16)}`)).join(', ')} ]`);
  }
  return `${lines.join('\n')}\n`;
}

/** '/' or a control character: not allowed in a domain name. */
function hasBadNameChar(name: string): boolean {
  for (let i = 0; i < name.length; i++) if (name[i] === '/' || name.charCodeAt(i) < 0x20) return true;
  return false;
}
