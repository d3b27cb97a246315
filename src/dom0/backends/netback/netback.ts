/**
 * netback: the network backend driver of one backend domain. It owns the xenbus bus for
 * `vif` devices and creates a Vif per device directory; each Vif is a port of the bridge
 * from its hotplug step (vif-bridge) until the device goes, and serves its frontend's tx
 * and rx rings while connected.
 *
 * Nothing here is global: a driver domain runs its own Netback with its own Xc, events,
 * xenstore handle and bridge.
 */
import { XenbusBackend, type XenbusDevice, type XenbusDeviceEvents } from '../xenbus_backend.ts';
import type { ChannelEnv } from '../device_channel.ts';
import type { WatchRouter, XsHandle } from '../xs_handle.ts';
import type { PacketTrace } from '../../net/trace.ts';
import { DEFAULT_NETBACK_CONFIG, type BridgeLike, type GatewayLike, type NetbackConfig, type NetbackEnv } from './netback_env.ts';
import { Vif } from './vif.ts';

export interface NetbackOptions {
  readonly bridge: BridgeLike;
  readonly gateway?: GatewayLike;
  readonly trace?: PacketTrace;
  readonly config?: Partial<NetbackConfig>;
  readonly events?: XenbusDeviceEvents;
  readonly router?: WatchRouter;
}

export class Netback {
  readonly bus: XenbusBackend;
  readonly config: NetbackConfig;
  private readonly _vifs = new Map<XenbusDevice, Vif>();

  constructor(env: ChannelEnv, xs: XsHandle, opts: NetbackOptions) {
    const config: NetbackConfig = { ...DEFAULT_NETBACK_CONFIG, ...opts.config };
    this.config = config;
    const nenv: NetbackEnv = { ...env, config, bridge: opts.bridge, gateway: opts.gateway, trace: opts.trace };
    this.bus = new XenbusBackend(xs, env.xc.domid, {
      type: 'vif',
      create: (dev) => {
        const v = new Vif(nenv, dev);
        this._vifs.set(dev, v);
        return v;
      },
    }, {
      onState: opts.events?.onState,
      onError: opts.events?.onError,
      onRemoved: (dev) => {
        this._vifs.delete(dev);
        opts.events?.onRemoved?.(dev);
      },
    }, opts.router);
  }

  start(): void {
    this.bus.start();
  }

  vif(frontId: number, devid: number): Vif | undefined {
    const dev = this.bus.device(frontId, devid);
    return dev === undefined ? undefined : this._vifs.get(dev);
  }

  get vifs(): IterableIterator<Vif> {
    return this._vifs.values();
  }

  close(): void {
    this.bus.close();
  }
}
