/**
 * The daemon's packet-trace methods (`tsxen net-trace`): follow the domU packet path live,
 * from netfront's event and ring slot through netback, the bridge and the gateway to the
 * host socket and back (src/dom0/net/trace.ts, docs/network.md "The packet trace").
 *
 *   net.trace          stream {filter?, max?, intervalMs?}: events {records, lost}; ends after
 *                      `max` matching records (result {sent}) or when the client leaves
 *   net.trace.status   {enabled, followers, nextSeq, dropped}
 *
 * Invariants:
 * - Each stream holds the trace on (PacketTrace.follow) from its start until it ends, is
 *   cancelled or its client disconnects, and releases its hold exactly once: with no client
 *   following, the trace is back to its idle state and the packet path pays one branch.
 * - A stream sends only what was recorded after it started; `lost` counts records the ring
 *   overwrote before the stream read them (a burst larger than the ring between two polls).
 * - A record is sent at most once per stream and never more than `max` of them.
 */
import type { ApiMethod } from '../dom0/api/server.ts';
import { XlError } from '../dom0/toolstack/xl_error.ts';
import { traceEventMatches, type PacketTrace } from '../dom0/net/trace.ts';
import type { DaemonContext } from './daemon_context.ts';
import { hostDevices } from './devices_wiring.ts';

type Methods = Array<[string, ApiMethod]>;

/** A record as it travels: the TraceEvent's fields. */
export interface NetTraceRecord {
  readonly seq: number;
  readonly tNs: number;
  readonly stage: string;
  readonly where: string;
  readonly text: string;
}

function packetTrace(ctx: DaemonContext): PacketTrace {
  const net = hostDevices(ctx.host)?.net ?? null;
  if (net === null) throw new XlError('this host runs no network (started with --no-net): there is no packet path to trace');
  return net.trace;
}

export function netTraceMethods(ctx: DaemonContext): Methods {
  return [
    ['net.trace', {
      stream: true,
      handler: (p, api) => {
        const trace = packetTrace(ctx);
        const filter = p.optStr('filter');
        const max = p.optInt('max', 1, 1 << 30);
        const intervalMs = p.optInt('intervalMs', 10, 60_000) ?? 100;
        const release = trace.follow();
        let from = trace.nextSeq;
        let sent = 0;
        return new Promise((resolve, reject) => {
          const finish = (result: unknown, error?: unknown): void => {
            clearInterval(timer);
            release();
            if (error !== undefined) reject(error);
            else resolve(result);
          };
          const pump = (): void => {
            try {
              const evs = trace.since(from);
              const lost = evs.length > 0 ? evs[0]!.seq - from : Math.max(0, trace.nextSeq - from);
              from = trace.nextSeq;
              const records: NetTraceRecord[] = [];
              for (const e of evs) {
                if (max !== undefined && sent >= max) break;
                if (filter !== undefined && !traceEventMatches(e, filter)) continue;
                records.push({ seq: e.seq, tNs: e.tNs, stage: e.stage, where: e.where, text: e.text });
                sent++;
              }
              if (records.length > 0 || lost > 0) api.emit({ records, lost });
              if (max !== undefined && sent >= max) finish({ sent });
            } catch (e) {
              finish(undefined, e);
            }
          };
          const timer = setInterval(pump, intervalMs);
          api.onCancel(() => finish(null));
        });
      },
    }],
    ['net.trace.status', {
      handler: () => {
        const t = packetTrace(ctx);
        return { enabled: t.enabled, followers: t.followers, nextSeq: t.nextSeq, dropped: t.dropped };
      },
    }],
  ];
}
