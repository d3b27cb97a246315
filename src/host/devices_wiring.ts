/**
 * dom0's split-driver backends for a Host, and the toolstack's use of them: SplitDrivers
 * (blkback; netback when xenbr0 is given) on dom0's xenstore, attached to the toolstack
 * (disk=, vif=, block-/network-attach) and to the host's run loops (virtual time waits for
 * their host I/O). `withUserNet` builds xenbr0 with the user-mode gateway (host sockets,
 * no root; docs/network.md) first, and gives dom0 its own address on it (10.0.2.1: the
 * toolstack's dom0Ping/dom0UdpEcho).
 *
 * Invariant: one SplitDrivers per Host (a second call returns the first).
 */
import type { Host } from './host.ts';
import { ensureXenstored } from './xenstore_wiring.ts';
import { SplitDrivers } from '../dom0/backends/split_drivers.ts';
import { createUserNet, type UserNet } from '../dom0/net/node_net.ts';
import type { GatewayConfig } from '../dom0/net/gateway.ts';
import { Dom0NetEndpoint } from '../dom0/toolstack/dom0_net.ts';

export interface HostDevices {
  readonly drivers: SplitDrivers;
  readonly net: UserNet | null;
  /** dom0's own address on xenbr0 (10.0.2.1), with the network. */
  readonly dom0Net: Dom0NetEndpoint | null;
}

const wired = new WeakMap<Host, HostDevices>();

/** The backends and network of a host, if they were wired (the daemon's net-trace reads the trace there). */
export function hostDevices(host: Host): HostDevices | undefined {
  return wired.get(host);
}

export function ensureDrivers(host: Host, net: UserNet | null = null): HostDevices {
  const known = wired.get(host);
  if (known !== undefined) return known;
  const store = ensureXenstored(host);
  const drivers = new SplitDrivers({
    xc: host.xc, events: host.events, xs: store.xs, clock: host.xen.clock,
    net: net === null ? undefined : { bridge: net.bridge, gateway: net.gateway, trace: net.trace },
  });
  const dom0Net = net === null ? null : new Dom0NetEndpoint(net.bridge);
  const d = { drivers, net, dom0Net };
  wired.set(host, d);
  host.toolstack.attachDrivers(drivers);
  host.toolstack.attachDom0Net(dom0Net);
  host.ioSources.push(drivers);
  return d;
}

/** Backends with xenbr0 and the user-mode gateway (loopback reachable as 10.0.2.2). */
export async function ensureDriversWithNet(host: Host, gw: GatewayConfig = {}): Promise<HostDevices> {
  const known = wired.get(host);
  if (known !== undefined) return known;
  return ensureDrivers(host, await createUserNet(gw));
}

/** Close the backends and the network of a host (daemon stop). */
export function closeDrivers(host: Host): void {
  const d = wired.get(host);
  if (d === undefined) return;
  host.toolstack.attachDom0Net(null);
  d.dom0Net?.close();
  d.drivers.close();
  d.net?.close();
  wired.delete(host);
}
