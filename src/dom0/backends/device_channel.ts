/**
 * A device channel: the frontend's ring page(s) mapped into the backend domain and the
 * interdomain event channel bound to the frontend's port (pv-devices.md §3.5 step 4,
 * §4.4 step 4). Opening is all-or-nothing: a bad ring-ref or port leaves nothing mapped
 * or bound and throws DeviceError (the device then goes Closing with the reason).
 *
 * Invariants: while open, the ring pages sit at consecutive pfns from `gpa / 4096`, one
 * grant mapping each, and `localPort` is bound with its handler registered; close()
 * unmaps every page, unbinds the port and frees the slots exactly once. The accounting
 * (mappings, ports) moves with each of those steps.
 */
import type { Xc } from '../libxc/xc.ts';
import type { Dom0Events } from '../libxc/events.ts';
import { GNTST_okay } from '../../abi/grant_table.ts';
import type { FramePool } from './frame_pool.ts';
import { MapBatch, UnmapBatch, type GrantAccounting } from './grant_ops.ts';
import { DeviceError } from './xenbus_backend.ts';

/** What every backend in one backend domain shares. */
export interface ChannelEnv {
  readonly xc: Xc;
  readonly events: Dom0Events;
  readonly pool: FramePool;
  readonly acct: GrantAccounting;
  /** Small batches for ring setup and teardown (not the data path). */
  readonly ringMap: MapBatch;
  readonly ringUnmap: UnmapBatch;
}

export class DeviceChannel {
  private _open = true;

  private constructor(private readonly _env: ChannelEnv, readonly frontId: number, readonly gpa: number,
    private readonly _base: number, private readonly _handles: number[], readonly localPort: number) {}

  /**
   * Map `refs` of domain `frontId` (writable) at consecutive slots and bind to its unbound
   * port `remotePort`; `onEvent` runs on every notification.
   */
  static open(env: ChannelEnv, frontId: number, refs: readonly number[], remotePort: number,
    onEvent: () => void): DeviceChannel {
    const n = refs.length;
    if (n < 1 || n > env.ringMap.capacity) throw new DeviceError(`bad ring page count ${n}`);
    const base = env.pool.slots(n);
    const mb = env.ringMap;
    mb.reset();
    for (let i = 0; i < n; i++) mb.add(refs[i]!, frontId, (base + i) * 4096, false);
    const rc = mb.submit();
    const handles: number[] = [];
    let bad = -1;
    for (let i = 0; i < n; i++) {
      if (rc === 0 && mb.status(i) === GNTST_okay) handles.push(mb.handle(i));
      else {
        handles.push(-1);
        if (bad < 0) bad = i;
      }
    }
    if (bad >= 0) {
      const why = rc !== 0 ? `grant_table_op ${rc}` : `status ${mb.status(bad)}`;
      unmapAll(env, base, handles);
      env.pool.release(base);
      throw new DeviceError(`mapping ring-ref ${refs[bad]} of domain ${frontId} failed (${why})`);
    }
    const local = env.xc.bindInterdomain(frontId, remotePort);
    if (local < 0) {
      unmapAll(env, base, handles);
      env.pool.release(base);
      throw new DeviceError(`binding event channel ${remotePort} of domain ${frontId} failed (${local})`, -local);
    }
    env.acct.ports++;
    env.events.on(local, () => onEvent());
    return new DeviceChannel(env, frontId, base * 4096, base, handles, local);
  }

  get open(): boolean {
    return this._open;
  }

  get pages(): number {
    return this._handles.length;
  }

  notify(): void {
    if (this._open) this._env.xc.notify(this.localPort);
  }

  close(): void {
    if (!this._open) return;
    this._open = false;
    const env = this._env;
    env.events.off(this.localPort);
    env.xc.closePort(this.localPort);
    env.acct.ports--;
    unmapAll(env, this._base, this._handles);
    env.pool.release(this._base);
  }
}

function unmapAll(env: ChannelEnv, base: number, handles: readonly number[]): void {
  const ub = env.ringUnmap;
  ub.reset();
  for (let i = 0; i < handles.length; i++) if (handles[i]! >= 0) ub.add((base + i) * 4096, handles[i]!);
  ub.submit();
}
