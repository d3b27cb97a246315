/**
 * The daemon's API methods for domains (the xl commands' server side): each turns its
 * parameters into toolstack calls and answers with plain data; the CLI prints xl's tables
 * and messages from it. Streams (shutdown -w) send `{stderr: line}` events for what xl
 * prints while it waits.
 */
import type { ApiMethod } from '../dom0/api/server.ts';
import type { Params } from '../dom0/api/protocol.ts';
import { XlError } from '../dom0/toolstack/xl_error.ts';
import { loadConfig } from '../dom0/toolstack/xl_load.ts';
import { formatXlConfig } from '../dom0/toolstack/xl_config.ts';
import {
  creditParams, dmesg, hostInfo, listDomains, longList, setCreditParams, memMaxKb, memSetKb, pauseDomain, renameDomain, schedCreditList, schedCreditUpdate,
  vcpuList, vcpuPin, vcpuSet,
} from '../dom0/toolstack/toolstack_ops.ts';
import { parseMemSizeKb } from '../dom0/toolstack/xl_values.ts';
import { domInfoList } from '../dom0/toolstack/xc_domain.ts';
import { domainArg, guestArg, type DaemonContext } from './daemon_context.ts';
import type { ToolstackEvent } from '../dom0/toolstack/toolstack.ts';
import { BuildError } from '../dom0/toolstack/xen_elf.ts';
import { XcError } from '../dom0/libxc/xc.ts';

type Methods = Array<[string, ApiMethod]>;

function plain(handler: ApiMethod['handler']): ApiMethod {
  return { handler };
}

export function domainMethods(ctx: DaemonContext): Methods {
  const ts = ctx.ts;
  const memArg = (p: Params): { kb: number; text: string } => {
    const text = p.str('size');
    const kb = parseMemSizeKb(text);
    if (kb === null) throw new XlError(`invalid memory size: ${text}`);
    return { kb, text };
  };
  return [
    ['create', plain((p) => {
      const source = p.str('source');
      const { cfg, kernel, ramdisk, at } = loadConfig(p.str('config'), source, p.strList('overrides'), p.str('cwd'));
      try {
        const g = ts.createPv(cfg, kernel, { ramdisk, paused: p.bool('paused') });
        ctx.log(`created domain ${g.domid} (${g.name}) from ${source}`);
        return { domid: g.domid, name: g.name, warnings: cfg.warnings };
      } catch (e) {
        if (e instanceof BuildError || e instanceof XcError) throw new XlError(`libxl: error: cannot create ${cfg.name}: ${e.message}`);
        // Checks only the host can make (affinity against its CPUs): name the line too.
        const key = e instanceof XlError ? /^(cpus|cpus_soft): /.exec(e.message)?.[1] : undefined;
        if (key !== undefined) throw new XlError(`${at(key)}: ${(e as XlError).message}`);
        throw e;
      }
    })],
    ['list', plain((p) => listDomains(ts, p.has('domain') ? domainArgForList(ctx, p.str('domain')) : undefined))],
    ['list.long', plain((p) => {
      const ids = p.has('domain') ? [domainArgForList(ctx, p.str('domain'))] : domInfoList(ts.xc).map((d) => d.domid);
      return longList(ts, ids).map((r) => {
        const g = ts.needGuest(r.domid);
        const macs = g.devices.flatMap((d) => (d.type === 'vif' ? [d.mac] : []));
        return { ...r, xlcfg: formatXlConfig({ ...g.config, name: g.name }, { uuid: g.uuid, macs }) };
      });
    })],
    ['domid', plain((p) => {
      const name = p.str('name');
      const id = name === 'Domain-0' ? ts.xc.domid : ts.guest(name)?.domid;
      if (id === undefined) throw new XlError(`Can't get domid of domain name '${name}', maybe this domain does not exist.`);
      return id;
    })],
    ['domname', plain((p) => {
      const text = p.str('domid');
      if (!/^\d+/.test(text)) throw new XlError('Invalid domain id.\n');
      const id = parseInt(text, 10);
      const name = domInfoList(ts.xc).some((d) => d.domid === id) ? ts.nameOf(id) : null;
      if (name === null) throw new XlError(`Can't get domain name of domain id '${id}', maybe this domain does not exist.`);
      return name;
    })],
    ['destroy', plain((p) => {
      const q = p.str('domain');
      const domid = ts.resolve(q);
      if (domid === ts.xc.domid) {
        if (!p.bool('force')) throw new XlError('Not destroying domain 0; use -f to force.\nThis can only be done when using a disaggregated hardware domain and toolstack.\n');
        throw new XlError('libxl: error: Domain 0:Cannot destroy the hardware domain from itself\ndestroy failed (rc=-6)');
      }
      if (!domInfoList(ts.xc).some((d) => d.domid === domid)) {
        throw new XlError(`libxl: error: Domain ${domid}:Non-existant domain\ndestroy failed (rc=-21)`);
      }
      if (ts.guest(domid) !== undefined) ts.destroy(domid);
      else if (ts.xc.destroyDomain(domid) < 0) throw new XlError(`destroy failed (rc=-3)`);
      ctx.log(`destroyed domain ${domid}`);
      return null;
    })],
    ['shutdown', { stream: true, handler: (p, api) => shutdownMethod(ctx, p, api.emit, api.onCancel) }],
    ['pause', plain((p) => pauseDomain(ts, domainArg(ctx, p.str('domain')), true))],
    ['unpause', plain((p) => pauseDomain(ts, domainArg(ctx, p.str('domain')), false))],
    ['rename', plain((p) => {
      const q = p.str('domain');
      const domid = ts.resolve(q);
      if (ts.guest(domid) === undefined) throw new XlError(`Can't rename domain '${q}'.`);
      renameDomain(ts, domid, p.str('name'));
      return null;
    })],
    ['mem-set', plain((p) => {
      const { kb, text } = memArg(p);
      memSetKb(ts, domainArg(ctx, p.str('domain')), kb, text);
      return null;
    })],
    ['mem-max', plain((p) => {
      const { kb, text } = memArg(p);
      memMaxKb(ts, domainArg(ctx, p.str('domain')), kb, text);
      return null;
    })],
    ['vcpu-set', plain((p) => {
      const text = p.str('count');
      const m = /^\d+/.exec(text);
      if (!m) throw new XlError('Error: Invalid argument.');
      vcpuSet(ts, domainArg(ctx, p.str('domain')), Number(m[0]), !p.bool('ignoreHost'));
      return null;
    })],
    ['vcpu-list', plain((p) => {
      const doms = p.strList('domains');
      return vcpuList(ts, doms.length ? doms.map((q) => domainArg(ctx, q)) : undefined);
    })],
    ['vcpu-pin', plain((p) => {
      vcpuPin(ts, domainArg(ctx, p.str('domain')), p.str('vcpu'), p.str('hard'), p.optStr('soft') ?? null, p.bool('force'));
      return null;
    })],
    ['sched-credit', plain((p) => {
      const dom = p.optStr('domain');
      const w = p.optInt('weight', 0, 1 << 30), c = p.optInt('cap', 0, 1 << 30);
      if (dom === undefined) return { pool: 'Pool-0', params: creditParams(ts), domains: schedCreditList(ts) };
      const domid = domainArg(ctx, dom);
      if (w !== undefined || c !== undefined) {
        schedCreditUpdate(ts, domid, w, c);
        return null;
      }
      return { pool: 'Pool-0', params: creditParams(ts), domains: schedCreditList(ts, domid) };
    })],
    ['sched-credit.params', plain((p) => {
      const set = { tsliceMs: p.optInt('tsliceMs'), ratelimitUs: p.optInt('ratelimitUs'), migrationDelayUs: p.optInt('migrationDelayUs') };
      if (set.tsliceMs !== undefined || set.ratelimitUs !== undefined || set.migrationDelayUs !== undefined) {
        setCreditParams(ts, set);
        return { pool: 'Pool-0', params: creditParams(ts) };
      }
      const params = creditParams(ts);
      if (params === null) throw new XlError('libxl_sched_credit_params_get failed.');
      return { pool: 'Pool-0', params };
    })],
    ['info', plain(() => hostInfo(ts))],
    ['dmesg', plain((p) => dmesg(ts, p.bool('clear')))],
    ['uptime', plain((p) => {
      const doms = p.strList('domains').map((q) => domainArg(ctx, q));
      const all = listDomains(ts);
      return doms.length ? doms.map((id) => all.find((e) => e.domid === id)!) : all; // domainArg checked existence
    })],
  ];
}

/** `xl list <dom>`: a name that does not exist is xl's "invalid domain identifier". */
function domainArgForList(ctx: DaemonContext, q: string): number {
  return ctx.ts.resolve(q);
}

/** xl shutdown / reboot [-a] [-w]: ask, then optionally wait for each domain to go. */
function shutdownMethod(ctx: DaemonContext, p: Params, emit: (e: unknown) => void, onCancel: (fn: () => void) => void): unknown {
  const ts = ctx.ts;
  const reboot = p.bool('reboot');
  const wait = p.bool('wait');
  const domids = p.bool('all')
    ? [...ts.guests].filter((g) => g.exit === null && !g.preserved).map((g) => g.domid)
    : [guestArg(ctx, p.str('domain')).domid];
  const stderr = (line: string): void => emit({ stderr: `${line}\n` });
  if (!wait) {
    for (const id of domids) {
      stderr(`${reboot ? 'Rebooting' : 'Shutting down'} domain ${id}`);
      ts.requestShutdown(id, reboot ? 'reboot' : 'poweroff');
    }
    return null;
  }
  const pending = new Set(domids);
  return new Promise<null>((resolve) => {
    const off = ts.onEvent((e: ToolstackEvent) => {
      if (e.type === 'shutdown' && pending.has(e.guest.domid)) {
        stderr(`Domain ${e.guest.domid} has been shut down, reason code ${e.reason}`);
        pending.delete(e.guest.domid);
      } else if (e.type === 'destroyed' && pending.has(e.domid)) {
        stderr(`Domain ${e.domid} has been destroyed`);
        pending.delete(e.domid);
      }
      if (pending.size === 0) {
        off();
        resolve(null);
      }
    });
    onCancel(off);
    try {
      for (const id of domids) {
        stderr(`${reboot ? 'Rebooting' : 'Shutting down'} domain ${id}`);
        ts.requestShutdown(id, reboot ? 'reboot' : 'poweroff');
      }
    } catch (e) {
      off();
      throw e;
    }
    stderr(`Waiting for ${domids.length} domains`);
    if (pending.size === 0) {
      off();
      resolve(null);
    }
  });
}
