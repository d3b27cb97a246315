/**
 * Running the network stack in a Node process: a monotonic host Clock, the driver that turns
 * the stack's TimerQueue into one host timer, the host resolver lookup, and createUserNet(),
 * which assembles xenbr0 + the gateway on real host sockets (what the toolstack and the
 * tests use).
 *
 * Invariant: at most one host timer is armed per driver, at the queue's earliest deadline;
 * it is unref'd so an idle network never keeps the process alive.
 */
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import type { Clock } from '../../hw/clock.ts';
import { Bridge, type BridgeOptions } from './bridge.ts';
import { UserNetGateway, type GatewayConfig } from './gateway.ts';
import type { HostPeer } from './host_net.ts';
import { NodeHostNet } from './node_host_net.ts';
import type { TimerQueue } from './timers.ts';
import { PacketTrace } from './trace.ts';

/** Host monotonic time. performance.now() (a double, sub-microsecond) rather than
 *  hrtime.bigint(): the bridge reads the clock per frame and the BigInt costs ~4x more. */
export class MonotonicClock implements Clock {
  readonly virtual = false;
  private readonly _t0 = performance.now();
  nowNs(): number { return Math.round((performance.now() - this._t0) * 1e6); }
}

export class NodeTimerDriver {
  private _timer: NodeJS.Timeout | null = null;
  private _armedAt = Infinity;
  private _stopped = false;

  constructor(private readonly _clock: Clock, private readonly _timers: TimerQueue) {
    _timers.onEarlier = () => this._arm();
  }

  private _arm(): void {
    if (this._stopped) return;
    const at = this._timers.nextAt;
    if (at === Infinity || at >= this._armedAt) return;
    if (this._timer) clearTimeout(this._timer);
    this._armedAt = at;
    const ms = Math.max(0, (at - this._clock.nowNs()) / 1e6);
    this._timer = setTimeout(() => this._fire(), Math.ceil(ms));
    this._timer.unref();
  }

  private _fire(): void {
    this._timer = null;
    this._armedAt = Infinity;
    this._timers.run(this._clock.nowNs());
    this._arm();
  }

  stop(): void {
    this._stopped = true;
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    this._timers.onEarlier = null;
  }
}

/** The host's first IPv4 nameserver from /etc/resolv.conf, or null. */
export function hostResolver(path = '/etc/resolv.conf'): HostPeer | null {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return null; }
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/.exec(line);
    if (m) return { ip: m[1], port: 53 };
  }
  return null;
}

export interface UserNet {
  readonly clock: Clock;
  readonly bridge: Bridge;
  readonly gateway: UserNetGateway;
  readonly trace: PacketTrace;
  readonly host: NodeHostNet;
  close(): void;
}

/** xenbr0 with the user-mode gateway attached, on host sockets and host time. */
export async function createUserNet(cfg: GatewayConfig = {}, bridgeOpts: BridgeOptions = {}): Promise<UserNet> {
  const clock = new MonotonicClock();
  const trace = bridgeOpts.trace ?? new PacketTrace(clock);
  const bridge = new Bridge(clock, { ...bridgeOpts, trace });
  const host = new NodeHostNet();
  const gateway = new UserNetGateway({ clock, host, trace, random32: () => randomInt(0, 0x1_0000_0000) },
    { ...cfg, dnsUpstream: cfg.dnsUpstream === undefined ? hostResolver() : cfg.dnsUpstream });
  const driver = new NodeTimerDriver(clock, gateway.timers);
  await gateway.start(bridge);
  return {
    clock, bridge, gateway, trace, host,
    close() { gateway.stop(); driver.stop(); },
  };
}
