/**
 * The daemon's streaming API methods: a guest's console (output out, input in), waiting for
 * a domain to end, `top` snapshots and the hypervisor trace buffer. Streams run until their
 * end condition or until the client cancels or disconnects; nothing here blocks the loop.
 *
 * Console bytes travel base64-encoded ({data}); a console can replay the guest's output so
 * far (create -c attaches after the domain started) and follow the guest across restarts.
 */
import type { ApiMethod } from '../dom0/api/server.ts';
import { XlError } from '../dom0/toolstack/xl_error.ts';
import type { Guest, GuestExit } from '../dom0/toolstack/guest.ts';
import { listDomains, vcpuList } from '../dom0/toolstack/toolstack_ops.ts';
import { physInfo, xenVersion } from '../dom0/toolstack/xc_domain.ts';
import { readXenTrace } from '../dom0/libxc/trace.ts';
import { guestArg, type DaemonContext } from './daemon_context.ts';

type Methods = Array<[string, ApiMethod]>;

function exitResult(g: Guest, e: GuestExit): { domid: number; reason: number; action: string } {
  return { domid: g.domid, reason: e.reason, action: e.action };
}

export function streamMethods(ctx: DaemonContext): Methods {
  const ts = ctx.ts;
  return [
    ['console', {
      stream: true,
      handler: (p, api) => {
        let g = guestArg(ctx, p.str('domain'));
        const replay = p.optInt('replay', 0, 1 << 30) ?? 0;
        const follow = p.bool('follow');
        if (replay > 0) {
          const log = g.console.log;
          const text = log.slice(Math.max(0, log.length - replay));
          if (text.length) api.emit({ data: Buffer.from(text, 'latin1').toString('base64') });
        }
        return new Promise((resolve) => {
          let stop = (): void => undefined;
          const attach = (guest: Guest): void => {
            const off = guest.addConsoleListener((b) => api.emit({ data: Buffer.from(b).toString('base64') }));
            stop = off;
            guest.onExit((e) => {
              off();
              if (follow && guest.restartedAs !== null && !api.cancelled) {
                g = guest.restartedAs;
                api.emit({ restarted: { from: guest.domid, to: g.domid } });
                attach(g);
              } else {
                resolve(exitResult(guest, e));
              }
            });
          };
          attach(g);
          api.onCancel(() => {
            stop();
            resolve(null);
          });
        });
      },
    }],
    ['console.log', {
      handler: (p) => {
        const g = guestArg(ctx, p.str('domain'));
        const max = p.optInt('bytes', 1, 1 << 20) ?? 65536;
        const log = g.console.log;
        return Buffer.from(log.slice(Math.max(0, log.length - max)), 'latin1').toString('base64');
      },
    }],
    ['console.input', {
      handler: (p) => {
        const g = guestArg(ctx, p.str('domain'));
        const data = Buffer.from(p.str('data'), 'base64');
        if (data.length > 65536) throw new XlError('console input: at most 64 KiB at a time');
        g.console.input(new Uint8Array(data));
        ctx.runner.wake();
        return null;
      },
    }],
    ['wait', {
      stream: true,
      handler: (p, api) => {
        const g = guestArg(ctx, p.str('domain'));
        return new Promise((resolve) => {
          g.onExit((e) => resolve({ ...exitResult(g, e), restartedAs: g.restartedAs?.domid ?? null }));
          api.onCancel(() => resolve(null));
        });
      },
    }],
    ['top', {
      stream: true,
      handler: (p, api) => {
        const delayMs = Math.max(100, (p.optInt('delayMs', 100, 3600_000) ?? 3000));
        const iterations = p.optInt('iterations', 1, 1 << 30);
        const v = xenVersion(ts.xc);
        let n = 0;
        return new Promise((resolve) => {
          const snap = (): void => {
            const pi = physInfo(ts.xc);
            api.emit({
              nowNs: ts.now(), hostMs: Date.now(), xenVersion: `${v.major}.${v.minor}${v.extra}`,
              physinfo: typeof pi === 'number' ? null : { nrCpus: pi.nrCpus, cpuKhz: pi.cpuKhz, totalKiB: pi.totalPages * 4, freeKiB: pi.freePages * 4 },
              domains: listDomains(ts).map((d) => ({
                ...d, ...netBlockCounts(ctx, d.domid),
              })),
              vcpus: p.bool('vcpus') ? vcpuList(ts) : undefined,
            });
            n++;
            if (iterations !== undefined && n >= iterations) {
              clearInterval(timer);
              resolve(null);
            }
          };
          const timer = setInterval(snap, delayMs);
          snap();
          api.onCancel(() => {
            clearInterval(timer);
            resolve(null);
          });
        });
      },
    }],
    ['trace', {
      stream: true,
      handler: (p, api) => {
        let from = p.optInt('from') ?? -1;
        const intervalMs = p.optInt('intervalMs', 10, 60_000) ?? 200;
        const max = p.optInt('max', 1, 1 << 30);
        let sent = 0;
        return new Promise((resolve, reject) => {
          const pump = (): void => {
            try {
              const t = readXenTrace(ts.xc, Math.max(0, from));
              if (from < 0) {
                from = t.total; // start with what happens from now on
                return;
              }
              if (t.records.length) {
                const lost = Math.max(0, t.total - t.records.length - from);
                api.emit({ records: t.records, lost });
                sent += t.records.length;
              }
              from = t.total;
              if (max !== undefined && sent >= max) {
                clearInterval(timer);
                resolve({ total: t.total });
              }
            } catch (e) {
              clearInterval(timer);
              reject(e);
            }
          };
          if (p.bool('history')) from = 0;
          const timer = setInterval(pump, intervalMs);
          pump();
          api.onCancel(() => {
            clearInterval(timer);
            resolve(null);
          });
        });
      },
    }],
  ];
}

/** Per-domain vif and vbd counts for top (bytes and requests come from the backends when they report them). */
function netBlockCounts(ctx: DaemonContext, domid: number): { nets: number; vbds: number } {
  const g = ctx.ts.guest(domid);
  if (g === undefined) return { nets: 0, vbds: 0 };
  return { nets: g.devices.filter((d) => d.type === 'vif').length, vbds: g.devices.filter((d) => d.type === 'vbd').length };
}
