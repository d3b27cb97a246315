/**
 * What every vif of one netback shares: the device-channel environment of the backend
 * domain, the bridge the vifs plug into, the user-mode gateway (to release a guest's flows
 * when its vif goes), the packet trace, and the tuning.
 */
import type { MacAddr } from '../../net/addr.ts';
import type { BridgePort, BridgePortHandle, PortOptions } from '../../net/bridge.ts';
import type { PacketTrace } from '../../net/trace.ts';
import type { ChannelEnv } from '../device_channel.ts';

export interface NetbackConfig {
  /** Tx slots mapped per round (one map and one unmap hypercall each). */
  readonly txRoundSlots: number;
  /** Staging frames per vif (received frames waiting for rx buffers). */
  readonly stagingPages: number;
  /** Offer rx-flip (GNTTABOP_transfer) besides rx-copy. */
  readonly rxFlip: boolean;
  /** Largest frame a vif sends to the bridge (the bridge's maxFrameLen). */
  readonly maxFrameLen: number;
  /** Mark received frames NETRXF_data_validated (every sender on xenbr0 completes checksums). */
  readonly rxDataValidated: boolean;
}

export const DEFAULT_NETBACK_CONFIG: NetbackConfig = {
  txRoundSlots: 128,
  stagingPages: 128,
  rxFlip: true,
  maxFrameLen: 1514,
  rxDataValidated: false,
};

/** The part of Bridge a vif uses. */
export interface BridgeLike {
  attach(port: BridgePort, opts?: PortOptions): BridgePortHandle;
}

/** The part of the gateway a vif uses. */
export interface GatewayLike {
  detachGuest(mac: MacAddr): void;
}

export interface NetbackEnv extends ChannelEnv {
  readonly config: NetbackConfig;
  readonly bridge: BridgeLike;
  readonly gateway?: GatewayLike;
  readonly trace?: PacketTrace;
}
