/**
 * blkback: the block backend driver of one backend domain. It owns the xenbus bus for
 * `vbd` devices and creates a Vbd per device directory; each Vbd opens its image in the
 * hotplug step and serves its frontend's ring.
 *
 * Nothing here is global: a driver domain runs its own Blkback with its own Xc, events and
 * xenstore handle (the IDD design). The segment strategy (grant copy or grant map) is a
 * constructor option; bench/blk.ts measures both, best of three interleaved runs: on the
 * development machine they are within its noise of each other (copy 68k/47k, map 65k/41k
 * 4 KiB read/write IOPS; map ahead on large sequential reads). Copy is the default: the
 * same speed, and nothing of the frontend stays mapped across the asynchronous file I/O
 * (a frontend destroyed meanwhile is not kept as a zombie by us). Persistent grants are not
 * offered: no frontend we run asks for them (minios does not).
 */
import { FileDisk, type BlockDriver } from '../../drivers/file_disk.ts';
import { XenbusBackend, type XenbusDevice, type XenbusDeviceEvents } from '../xenbus_backend.ts';
import type { ChannelEnv } from '../device_channel.ts';
import type { WatchRouter, XsHandle } from '../xs_handle.ts';
import { GrantCopyIo, GrantMapIo, type SegmentIo } from './segment_io.ts';
import { Vbd, type VbdConfig, type VbdEnv } from './vbd.ts';

export const DEFAULT_VBD_CONFIG: VbdConfig = {
  maxRingPageOrder: 2,
  maxIndirectSegments: 64,
  arenaPages: 256,
  segmentIo: 'copy',
};

export interface BlkbackOptions {
  readonly config?: Partial<VbdConfig>;
  /** Opens images in the hotplug step (default FileDisk.open). */
  readonly openDisk?: (path: string, readonly: boolean) => Promise<BlockDriver>;
  readonly events?: XenbusDeviceEvents;
  readonly router?: WatchRouter;
}

export class Blkback {
  readonly bus: XenbusBackend;
  readonly config: VbdConfig;
  /** File operations in flight across all devices. */
  ioInflight = 0;
  private readonly _vbds = new Map<XenbusDevice, Vbd>();
  private _idle: Array<() => void> = [];
  private _progress: Array<() => void> = [];

  constructor(_env: ChannelEnv, xs: XsHandle, opts: BlkbackOptions = {}) {
    const config: VbdConfig = { ...DEFAULT_VBD_CONFIG, ...opts.config };
    this.config = config;
    const env: VbdEnv = {
      ..._env,
      config,
      makeSegmentIo: (pages): SegmentIo => config.segmentIo === 'map'
        ? new GrantMapIo(_env.xc, _env.pool, _env.acct, pages)
        : new GrantCopyIo(_env.xc, _env.pool, _env.acct, pages),
      ioChanged: (d) => {
        this.ioInflight += d;
        if (d < 0) for (const f of this._progress.splice(0)) f();
        if (this.ioInflight === 0) for (const f of this._idle.splice(0)) f();
      },
      openDisk: (path, ro) => {
        // Opening an image is host I/O too: virtual time waits for it like for reads.
        env.ioChanged(1);
        const p = (opts.openDisk ?? ((q, r) => FileDisk.open(q, { readonly: r })))(path, ro);
        return p.finally(() => env.ioChanged(-1));
      },
    };
    this.bus = new XenbusBackend(xs, _env.xc.domid, {
      type: 'vbd',
      create: (dev) => {
        const v = new Vbd(env, dev);
        this._vbds.set(dev, v);
        return v;
      },
    }, {
      onState: opts.events?.onState,
      onError: opts.events?.onError,
      onRemoved: (dev) => {
        this._vbds.delete(dev);
        opts.events?.onRemoved?.(dev);
      },
    }, opts.router);
  }

  start(): void {
    this.bus.start();
  }

  vbd(frontId: number, devid: number): Vbd | undefined {
    const dev = this.bus.device(frontId, devid);
    return dev === undefined ? undefined : this._vbds.get(dev);
  }

  /** Resolves when no file I/O is in flight. */
  settled(): Promise<void> {
    if (this.ioInflight === 0) return Promise.resolve();
    return new Promise((r) => this._idle.push(r));
  }

  /** Resolves when the next file operation completes (at once when none is in flight). */
  progress(): Promise<void> {
    if (this.ioInflight === 0) return Promise.resolve();
    return new Promise((r) => this._progress.push(r));
  }

  close(): void {
    this.bus.close();
  }
}
