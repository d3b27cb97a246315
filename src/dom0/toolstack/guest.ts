/**
 * A guest domain as the toolstack knows it (libxl's view of one domid): its name and UUID,
 * the config it was created from, the images to rebuild it with on restart, its console,
 * its devices, and how it ended.
 *
 * Invariants: `exit` is set exactly once, when the domain's story under this domid ends
 * (destroyed, or shut down and its on_* action applied); every onExit listener runs once,
 * after that action. A restarted guest is a new Guest (new domid) with the same name and
 * UUID; `restartedAs` links the old record to it.
 */
import type { ConsoleConnection } from '../console/console_backend.ts';
import type { OnAction, PvGuestConfig } from './xl_config.ts';
import type { AttachedDevice } from './devices.ts';
import type { PvDomainLayout } from './pv_builder.ts';

export interface GuestExit {
  /** SHUTDOWN_* reason, or -1 if it was destroyed without shutting down. */
  readonly reason: number;
  readonly action: OnAction | 'destroyed' | 'saved';
}

export type ConsoleListener = (bytes: Uint8Array) => void;

/** The frames and channels the toolstack set up for a domain (BuiltDomain, or a restored one's). */
export interface DomainFrames {
  readonly domid: number;
  /** PFN -> MFN at build (or restore) time. */
  readonly p2m: readonly number[];
  readonly consoleMfn: number;
  readonly consolePort: number;
  readonly storeMfn: number;
  readonly storePort: number;
  /** Where the builder put things (a built domain's; a restored one has none). */
  readonly layout?: PvDomainLayout;
}

export class Guest {
  exit: GuestExit | null = null;
  /** The domain is kept shut down for inspection (on_*="preserve", or preserved by rename-restart). */
  preserved = false;
  /** The Guest this one was restarted as (on_reboot="restart" and friends). */
  restartedAs: Guest | null = null;
  readonly devices: AttachedDevice[] = [];
  private readonly _exitListeners: ((e: GuestExit) => void)[] = [];
  private readonly _consoleListeners = new Set<ConsoleListener>();

  constructor(public name: string, readonly domid: number, readonly uuid: string, readonly config: PvGuestConfig,
    readonly built: DomainFrames, readonly console: ConsoleConnection, readonly images: GuestImages,
    /** System time (ns) when the domain was created. */
    readonly startNs: number) {
    console.sink = (b) => {
      for (const l of this._consoleListeners) l(b);
    };
  }

  onExit(fn: (e: GuestExit) => void): void {
    if (this.exit !== null) fn(this.exit);
    else this._exitListeners.push(fn);
  }

  /** Receive console output from now on; returns the function that stops it. */
  addConsoleListener(fn: ConsoleListener): () => void {
    this._consoleListeners.add(fn);
    return () => void this._consoleListeners.delete(fn);
  }

  /** @internal */
  finish(e: GuestExit): void {
    if (this.exit !== null) return;
    this.exit = e;
    for (const fn of this._exitListeners.splice(0)) fn(e);
  }
}

/** What a domain is built from, kept for on_reboot="restart". */
export interface GuestImages {
  /** null: a restored guest whose kernel file could not be read (it cannot be restarted). */
  readonly kernel: Uint8Array | null;
  readonly ramdisk: Uint8Array | null;
}
