/**
 * The daemon's device methods: xl block-attach/-detach/-list and network-attach/-detach/
 * -list, over the toolstack's device operations (src/dom0/toolstack/device_ops.ts) and the
 * backends' device API. Specs use xl's syntax, with xl's messages for bad ones.
 */
import type { ApiMethod } from '../dom0/api/server.ts';
import { XlError } from '../dom0/toolstack/xl_error.ts';
import { parseDiskSpec, DiskSpecError } from '../dom0/toolstack/xl_disk.ts';
import { parseVifSpec, VifSpecError } from '../dom0/toolstack/xl_vif.ts';
import { parseVdev, formatMac, parseMac } from '../dom0/toolstack/xl_values.ts';
import { attachDisk, attachNic, blockList, detachDevice, networkList } from '../dom0/toolstack/device_ops.ts';
import type { DeviceDrivers } from '../dom0/toolstack/devices.ts';
import { guestArg, type DaemonContext } from './daemon_context.ts';

type Methods = Array<[string, ApiMethod]>;

function drivers(ctx: DaemonContext): DeviceDrivers {
  const d = ctx.ts.drivers;
  if (d === null || ctx.ts.store === null) throw new XlError('this host runs no split-driver backends (blkback/netback)');
  return d;
}

export function deviceMethods(ctx: DaemonContext): Methods {
  const ts = ctx.ts;
  const listOver = <T>(domains: string[], f: (domid: number) => T[]): { rows: Array<T & { domid: number }>; errors: string[] } => {
    const rows: Array<T & { domid: number }> = [];
    const errors: string[] = [];
    for (const q of domains) {
      let g;
      try {
        g = guestArg(ctx, q);
      } catch {
        errors.push(`${q} is an invalid domain identifier (rc=-6)`); // xl's find_domain exits here
        break;
      }
      for (const r of f(g.domid)) rows.push({ ...r, domid: g.domid });
    }
    return { rows, errors };
  };
  return [
    ['block-attach', {
      handler: (p) => {
        const g = guestArg(ctx, p.str('domain'));
        const d = parseDiskSpec(p.strList('spec'));
        if (d instanceof DiskSpecError) throw new XlError(`command line: ${d.message}`);
        if (d.devid === null) throw new XlError(`command line: vdev \`${d.vdev}' is not a virtual disk name`);
        if (d.format !== 'raw') throw new XlError(`command line: format=${d.format}: tsxen's blkback serves raw images only\nlibxl_device_disk_add failed.`);
        const target = d.target === '' || d.target.startsWith('/') ? d.target : `${p.str('cwd')}/${d.target}`;
        const dev = attachDisk(ts, g, drivers(ctx), { ...d, target });
        ctx.log(`block-attach: domain ${g.domid} ${d.vdev} (${dev.devid}) <- ${target}`);
        return { devid: dev.devid };
      },
    }],
    ['block-detach', {
      handler: async (p) => {
        const g = guestArg(ctx, p.str('domain'));
        const vdev = p.str('vdev');
        const v = parseVdev(vdev);
        if (v === null || !g.devices.some((x) => x.type === 'vbd' && x.devid === v.devid)) throw new XlError(`Error: Device ${vdev} not connected.`);
        await detachDevice(g, drivers(ctx), 'vbd', v.devid, p.bool('force'));
        return null;
      },
    }],
    ['block-list', { handler: (p) => listOver(p.strList('domains'), (id) => blockList(ts.store, ts.needGuest(id))) }],
    ['network-attach', {
      handler: (p) => {
        const g = guestArg(ctx, p.str('domain'));
        const v = parseVifSpec(p.strList('spec'));
        if (v instanceof VifSpecError) throw new XlError(v.message);
        if (v.bridge !== 'xenbr0') throw new XlError(`bridge=${v.bridge}: the host has one bridge, xenbr0\nlibxl_device_nic_add failed.`);
        const dev = attachNic(ts, g, drivers(ctx), v);
        ctx.log(`network-attach: domain ${g.domid} vif ${dev.devid}`);
        return { devid: dev.devid, mac: dev.type === 'vif' ? formatMac(dev.mac) : '' };
      },
    }],
    ['network-detach', {
      handler: async (p) => {
        const g = guestArg(ctx, p.str('domain'));
        const dev = p.str('device');
        let devid: number;
        if (dev.includes(':')) {
          const mac = parseMac(dev);
          const hit = mac === null ? undefined : g.devices.find((x) => x.type === 'vif' && formatMac(x.mac) === formatMac(mac));
          if (hit === undefined) throw new XlError(`Unknown device ${dev}.`);
          devid = hit.devid;
        } else {
          devid = parseInt(dev, 10) || 0;
          if (!g.devices.some((x) => x.type === 'vif' && x.devid === devid)) throw new XlError(`Unknown device ${dev}.`);
        }
        await detachDevice(g, drivers(ctx), 'vif', devid, false);
        return null;
      },
    }],
    ['network-list', { handler: (p) => listOver(p.strList('domains'), (id) => networkList(ts.store, ts.needGuest(id))) }],
  ];
}
