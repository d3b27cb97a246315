/**
 * Device specifications the toolstack hands to the device API (split_drivers.ts), and the
 * names they carry: the `virtual-device` number of a disk name (xen-vbd-interface(7),
 * pv-devices.md §3.4) and MAC addresses. Parsing xl's `disk=`/`vif=` strings is the
 * toolstack's; these are the structured forms.
 *
 * Errors name the bad field and value (SpecError): this is an API edge.
 */
import { randomBytes } from 'node:crypto';

export class SpecError extends Error {
  override name = 'SpecError';
}

export interface VbdSpec {
  /** Host path of a raw image: the only host file the device ever touches. */
  readonly target: string;
  /** Guest name (xvda, xvdb1, hda, sdc2) or the virtual-device number itself. */
  readonly vdev: string | number;
  /** 'rw' (default) or 'r'. */
  readonly access?: 'rw' | 'r' | 'w' | 'ro';
  readonly devtype?: 'disk' | 'cdrom';
  /** Backend domain (default: the domain running these backends). */
  readonly backend?: number;
}

export interface VifSpec {
  /** aa:bb:cc:dd:ee:ff (default 00:16:3e plus three random bytes, as libxl). */
  readonly mac?: string;
  /** Default: the lowest vif devid the domain does not use. */
  readonly devid?: number;
  /** Only xenbr0 exists. */
  readonly bridge?: string;
  /** Drop frames whose source MAC is not the vif's (default true). */
  readonly restrictSource?: boolean;
  readonly backend?: number;
}

/** Disk index of a letter suffix: a = 0, z = 25, aa = 26, ... */
function diskIndex(letters: string): number {
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

/** The `virtual-device` number (= devid) of a disk name or number. */
export function vdevNumber(vdev: string | number): number {
  if (typeof vdev === 'number') {
    if (!Number.isInteger(vdev) || vdev <= 0 || vdev > 0x7fffffff) throw new SpecError(`vdev ${vdev} is not a valid virtual-device number`);
    return vdev;
  }
  const s = vdev.trim();
  if (/^[0-9]+$/.test(s)) return vdevNumber(Number(s));
  let m = /^xvd([a-z]+)([0-9]*)$/.exec(s);
  if (m) {
    const disk = diskIndex(m[1]!), part = m[2] === '' ? 0 : Number(m[2]); // SAFETY: groups 1-2 always match
    if (disk <= 15 && part <= 15) return (202 << 8) | (disk << 4) | part;
    if (disk < 1 << 20 && part <= 255) return (1 << 28) | (disk << 8) | part;
    throw new SpecError(`vdev ${vdev}: disk or partition out of range`);
  }
  m = /^hd([a-d])([0-9]*)$/.exec(s);
  if (m) {
    const disk = diskIndex(m[1]!), part = m[2] === '' ? 0 : Number(m[2]); // SAFETY: groups 1-2 always match
    if (part > 63) throw new SpecError(`vdev ${vdev}: partition out of range`);
    return disk < 2 ? (3 << 8) | (disk << 6) | part : (22 << 8) | ((disk - 2) << 6) | part;
  }
  m = /^sd([a-p])([0-9]*)$/.exec(s);
  if (m) {
    const disk = diskIndex(m[1]!), part = m[2] === '' ? 0 : Number(m[2]); // SAFETY: groups 1-2 always match
    if (part > 15) throw new SpecError(`vdev ${vdev}: partition out of range`);
    return (8 << 8) | (disk << 4) | part;
  }
  throw new SpecError(`vdev ${JSON.stringify(vdev)} is not a disk name (xvdX, hdX, sdX) or number`);
}

/** Canonical lower-case MAC text, or SpecError. */
export function parseMacText(mac: string): string {
  const m = /^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$/.exec(mac.trim());
  if (!m) throw new SpecError(`mac ${JSON.stringify(mac)} is not aa:bb:cc:dd:ee:ff`);
  const first = Number.parseInt(mac.trim().slice(0, 2), 16);
  if ((first & 1) !== 0) throw new SpecError(`mac ${mac} is a multicast address`);
  return mac.trim().toLowerCase();
}

/** libxl's default: the Xen OUI 00:16:3e and three random bytes. */
export function randomXenMac(): string {
  const b = randomBytes(3);
  b[0] = b[0]! & 0x7f;
  return ['00', '16', '3e', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}
