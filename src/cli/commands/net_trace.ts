/**
 * tsxen net-trace: follow one packet's way through the split network driver live, from the
 * running host's packet trace — netfront's event and ring slot, netback's grant mapping, the
 * bridge, the gateway and its host socket, and back through netback-rx into the rx ring.
 * The daemon turns the trace on while at least one net-trace follows it and off when the
 * last one leaves (src/host/daemon_net_trace.ts), so a host nobody traces pays nothing.
 */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { connectHost, followStream, withHost } from '../host_client.ts';
import { err, json, out } from '../output.ts';
import { formatTraceEvent } from '../../dom0/net/trace.ts';
import type { NetTraceRecord } from '../../host/daemon_net_trace.ts';

const USAGE = `usage: tsxen net-trace [-n|--count N] [--json] [FILTER]
       tsxen net-trace --status [--json]

(tsxen's own command; xl has none.) Follows the packet trace of the running host: one line
per stage a frame passes on the domU packet path, as it happens:

  event        vif2.0  netfront in d2 notified netback (the event channel)
  ring         vif2.0  the tx request: slot, id, grant reference, size
  netback-tx   vif2.0  netback mapped the grants and hands the frame to xenbr0
  bridge-in / bridge-out / bridge-flood / bridge-drop    xenbr0 (the learning bridge)
  gateway-in / gateway-out / gateway-nat / socket-*      the user-mode gateway (the uplink)
  netback-rx   vif1.0  the grant copy (or page flip) into the receiving guest
  ring         vif1.0  the rx response and its notification

The trace is on only while some net-trace runs. Ctrl-C stops.

  FILTER           only records whose place or text contains it: vif1.0, 10.0.2.15, :7 ...
  -n, --count N    stop after N records
  --json           one JSON record per line ({seq, tNs, stage, where, text})
  --status         whether the trace is on, and how many clients follow it`;

interface NetTraceOpts {
  readonly count?: number;
  readonly json: boolean;
  readonly status: boolean;
  readonly filter?: string;
}

function parse(args: readonly string[]): NetTraceOpts {
  let count: number | undefined, asJson = false, status = false, filter: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n' || a === '--count' || a.startsWith('--count=')) {
      const v = a.startsWith('--count=') ? a.slice('--count='.length) : args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`, 2);
      count = Number(v);
      if (!Number.isInteger(count) || count < 1 || count > 1 << 30) throw new UsageError(`${a} ${v}: a whole number of records, at least 1`, 2);
    } else if (a === '--json') asJson = true;
    else if (a === '--status') status = true;
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}; see 'tsxen net-trace --help'`, 2);
    else if (filter === undefined) filter = a;
    else throw new UsageError(`one FILTER only (got '${filter}' and '${a}')`, 2);
  }
  return { count, json: asJson, status, filter };
}

export const netTraceCommand: Command = {
  name: 'net-trace',
  summary: 'follow packets through netfront, the ring, netback, xenbr0 and the uplink live',
  usage: USAGE,
  async run(args) {
    const o = parse(args);
    if (o.status) {
      return withHost(async (c) => {
        const s = await c.call<{ enabled: boolean; followers: number; nextSeq: number; dropped: number }>('net.trace.status');
        if (o.json) json(s);
        else out(`packet trace: ${s.enabled ? 'on' : 'off'}, ${s.followers} follower(s), ${s.nextSeq} records so far\n`);
        return 0;
      });
    }
    const c = await connectHost();
    const stream = c.stream('net.trace', { filter: o.filter, max: o.count }, (e) => {
      const ev = e as { records: NetTraceRecord[]; lost: number }; // the daemon's net.trace event
      if (ev.lost > 0) err(`(${ev.lost} records lost: the trace ring wrapped between two reads)\n`);
      let s = '';
      for (const r of ev.records) s += o.json ? `${JSON.stringify(r)}\n` : `${formatTraceEvent(r)}\n`;
      if (s) out(s);
    });
    await followStream(c, stream);
    return 0;
  },
};
