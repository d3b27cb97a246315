/**
 * dom0 as the peer of a devchan test kernel: one guest whose devchan/peer is dom0, and the
 * same rendezvous the C framework uses (devchan/<key> under each side's home, perms so the
 * other may read), driven from TypeScript between scheduler slices. The dom0 side uses the
 * device-channel libraries (src/dom0/libs) exactly as a backend would.
 */
import { join } from 'node:path';
import { DevchanHost, type DevchanGuest } from '../../bench/evtchn_host.ts';
import type { Host } from '../../src/host/host.ts';
import type { XsLocalHandle } from '../../src/dom0/xenstored/index.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { BUILD, resultLineOf, verdictOf } from './tsxen_harness.ts';

export class Dom0Peer {
  readonly dh: DevchanHost;
  readonly guest: DevchanGuest;

  constructor(kernel: string, role: string, cfg: readonly string[] = []) {
    this.dh = new DevchanHost();
    [this.guest] = this.dh.create('devchan', [{ name: 'guest', kernel: join(BUILD, kernel), role, peer: 'dom0', cfg }]) as [DevchanGuest];
    this.dh.unpause([this.guest]);
  }

  get host(): Host {
    return this.dh.host;
  }

  get xs(): XsLocalHandle {
    return this.dh.xs;
  }

  get domid(): number {
    return this.guest.domid;
  }

  get console(): string {
    return this.guest.console();
  }

  get exited(): boolean {
    return this.guest.exited();
  }

  /** Publish /local/domain/0/devchan/<key>. */
  put(key: string, value: string | number): void {
    this.dh.put(key, value);
  }

  /** Run the machine until the guest published <key> (or it stopped); its value. */
  get(key: string): Promise<string> {
    return this.dh.get(this.guest, key);
  }

  async sync(name: string): Promise<void> {
    this.put(name, '1');
    await this.get(name);
  }

  /** Run until `cond` or the guest stopped. */
  async runUntil(cond: () => boolean, maxSystemNs = 600e9): Promise<void> {
    await this.host.runUntil(() => cond() || this.exited, { maxSystemNs, timeoutMs: 120_000 });
  }

  /** Let the guest finish; its verdict, the console, and the memory audit. */
  async finish(): Promise<{ verdict: string; console: string; audit: string[] }> {
    await this.host.runUntil(() => this.exited, { maxSystemNs: 600e9, timeoutMs: 120_000 });
    this.dh.teardown([this.guest]);
    return { verdict: verdictOf(resultLineOf(this.console)), console: this.console, audit: auditMemory(this.host.xen) };
  }
}
