/**
 * dom0 as the peer of a devchan test kernel: a host with xenstored, one guest created with
 * the devchan/ directory naming dom0 as its peer, and the same rendezvous the C framework
 * uses (devchan/<key> under each side's home, perms so the other may read), driven from
 * TypeScript between scheduler slices. The dom0 side uses the device-channel libraries
 * (src/dom0/libs) exactly as a backend would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Host } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import { XenStored, XsLocalHandle, createDomainTree } from '../../src/dom0/xenstored/index.ts';
import { XcPlatform } from '../../src/dom0/xenstored/xc_platform.ts';
import { asDomId, asEvtchnPort, asGfn } from '../../src/abi/types.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { BUILD, verdictOf } from './tsxen_harness.ts';

export class Dom0Peer {
  readonly host: Host;
  readonly xs: XsLocalHandle;
  readonly daemon: XenStored;
  readonly domid: number;
  private _text = '';
  private readonly _guest: ReturnType<Host['toolstack']['createPv']>;

  constructor(kernel: string, role: string, cfg: readonly string[] = []) {
    this.host = new Host({ memoryMiB: 256, clock: 'virtual' });
    this.daemon = new XenStored({ platform: new XcPlatform(this.host.xc, this.host.events) });
    this.xs = new XsLocalHandle(this.daemon);
    const lines = ['name="devchan-dom0"', `kernel="${join(BUILD, kernel)}"`, 'memory=32', 'on_crash="destroy"', ...cfg];
    this._guest = this.host.toolstack.createPv(pvConfig(parseXlConfig(lines.join('\n'), 'dom0-peer')),
      readFileSync(join(BUILD, kernel)), { paused: true, sink: (b) => { this._text += Buffer.from(b).toString('latin1'); } });
    const id = this._guest.domid;
    this.domid = id;
    const b = this._guest.built;
    createDomainTree(this.xs, { domid: asDomId(id), name: 'devchan-dom0', uuid: '00000000-0000-4000-8000-00000000d0d0',
      memoryKiB: 32768, store: { gfn: asGfn(b.storeMfn), port: asEvtchnPort(b.storePort) } });
    const home = `/local/domain/${id}/devchan`;
    this.xs.write(home, '');
    this.xs.setPerms(home, [`n${id}`, 'r0']);
    this.xs.write(`${home}/peer`, '0');
    this.xs.write(`${home}/role`, role);
    this.xs.write('/local/domain/0/devchan', '');
    this.xs.setPerms('/local/domain/0/devchan', ['n0', `r${id}`]);
    this.xs.introduce(asDomId(id), asGfn(b.storeMfn), asEvtchnPort(b.storePort));
    this.host.toolstack.unpause(id);
  }

  get console(): string {
    return this._text;
  }

  get exited(): boolean {
    return this._guest.exit !== null;
  }

  /** Publish /local/domain/0/devchan/<key>. */
  put(key: string, value: string | number): void {
    this.xs.write(`/local/domain/0/devchan/${key}`, String(value));
  }

  /** Run the machine until the guest published <key> (or it stopped); its value. */
  async get(key: string, maxSystemNs = 600e9): Promise<string> {
    const path = `/local/domain/${this.domid}/devchan/${key}`;
    await this.host.runUntil(() => this.xs.tryRead(path) !== undefined || this.exited, { maxSystemNs, timeoutMs: 120_000 });
    const v = this.xs.tryRead(path);
    if (v === undefined) throw new Error(`the guest never published ${key}:\n${this.console}`);
    return v;
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
    const lines = this._text.split(/\r?\n/).filter((l) => l.startsWith('Test result:'));
    if (!this.exited) this.host.toolstack.destroy(this.domid);
    this.daemon.domains.checkDomains();
    return { verdict: verdictOf(lines.at(-1) ?? null), console: this._text, audit: auditMemory(this.host.xen) };
  }
}
