/**
 * What the daemon's API methods share: the host, its toolstack and run loop, and helpers
 * to turn xl's domain arguments into domids with xl's messages.
 */
import type { Host } from './host.ts';
import type { HostRunner } from './runner.ts';
import type { Toolstack } from '../dom0/toolstack/toolstack.ts';
import type { Guest } from '../dom0/toolstack/guest.ts';
import { XlError } from '../dom0/toolstack/xl_error.ts';
import { domInfo } from '../dom0/toolstack/xc_domain.ts';

export interface DaemonContext {
  readonly host: Host;
  readonly ts: Toolstack;
  readonly runner: HostRunner;
  /** Append a line to the host log. */
  log(line: string): void;
  /** The daemon's own facts for host.status. */
  readonly startedAt: number;
  readonly socketPath: string;
  httpPort: number | null;
  /** The host belongs to one `create -c` and ends with its guest (create/restore put no other guests there). */
  readonly embedded: boolean;
  /** Stop the daemon (after the current request is answered). */
  requestStop(): void;
}

/** xl's find_domain, plus the existence check the libxl call behind it makes. */
export function domainArg(ctx: DaemonContext, q: string): number {
  const domid = ctx.ts.resolve(q);
  if (domInfo(ctx.ts.xc, domid) === null) throw new XlError(`libxl: error: Domain ${domid}:Non-existant domain`);
  return domid;
}

/** A guest domain (not dom0) named by an xl argument. */
export function guestArg(ctx: DaemonContext, q: string): Guest {
  return ctx.ts.needGuest(domainArg(ctx, q));
}
