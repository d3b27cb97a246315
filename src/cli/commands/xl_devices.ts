/**
 * xl's device commands: block-attach/-detach/-list and network-attach/-detach/-list
 * (tools/xl/xl_block.c, xl_nic.c) with xl's tables and messages.
 */
import type { Command } from '../command.ts';
import { flag, xlCommand } from '../xl_command.ts';
import { withHost } from '../host_client.ts';
import { err, out, padL, padR } from '../output.ts';
import type { BlockListRow, NetworkListRow } from '../../dom0/toolstack/device_ops.ts';

export function formatBlockList(rows: readonly BlockListRow[]): string {
  let s = `${padL('Vdev', 5)} ${padL('BE', 3)} ${padL('handle', 6)} ${padL('state', 5)} ${padL('evt-ch', 6)} ${padL('ring-ref', 8)} ${padL('BE-path', 30)}\n`;
  for (const r of rows) {
    s += `${padL(r.vdev, 5)} ${padL(r.backendId, 3)} ${padL(r.handle, 6)} ${padL(r.state, 5)} ${padL(r.evtch, 6)} ${padL(r.ringRef, 8)} ${padL(r.backendPath, 30)}\n`;
  }
  return s;
}

export function formatNetworkList(rows: readonly NetworkListRow[]): string {
  let s = `${padL('Idx', 3)} ${padL('BE', 2)} ${padL('Mac Addr.', 17)} ${padL('handle', 6)} ${padL('state', 5)} ${padL('evt-ch', 6)} ${padR('tx-', 5)}/${padL('rx-ring-ref', 5)} ${padL('BE-path', 30)}\n`;
  for (const r of rows) {
    s += `${padL(r.idx, 3)} ${padL(r.backendId, 2)} ${r.mac}${padR(r.handle, 6)} ${padR(r.state, 5)} ${padR(r.evtch, 6)} ${padR(r.txRingRef, 5)}/${padL(r.rxRingRef, 11)} ${padL(r.backendPath, 30)}\n`;
  }
  return s;
}

const blockAttach = xlCommand({
  name: 'block-attach', synopsis: '<Domain> <disk-spec-component(s)>...', summary: 'Create a new virtual block device',
  spec: { short: '', required: 2 },
  async run(p) {
    return withHost(async (c) => {
      await c.call('block-attach', { domain: p.operands[0]!, spec: p.operands.slice(1), cwd: process.cwd() });
      return 0;
    });
  },
});

const blockDetach = xlCommand({
  name: 'block-detach', synopsis: '<Domain> <DevId>', summary: 'Destroy a domain\'s virtual block device',
  options: '-f, --force        detach even if the guest does not close the device', spec: { short: 'f', long: { force: 'f' }, required: 2 },
  async run(p) {
    return withHost(async (c) => {
      await c.call('block-detach', { domain: p.operands[0]!, vdev: p.operands[1]!, force: flag(p, 'f') });
      return 0;
    });
  },
});

function lister<R>(name: string, summary: string, method: string, fmt: (rows: readonly R[]) => string): Command {
  return xlCommand({
    name, synopsis: '<Domain(s)>', summary, spec: { short: '', required: 1 },
    async run(p) {
      return withHost(async (c) => {
        const r = await c.call<{ rows: R[]; errors: string[] }>(method, { domains: p.operands });
        out(fmt(r.rows));
        for (const e of r.errors) err(`${e}\n`);
        return r.errors.length > 0 ? 1 : 0;
      });
    },
  });
}

const networkAttach = xlCommand({
  name: 'network-attach',
  synopsis: '<Domain> [type=<type>] [mac=<mac>] [bridge=<bridge>] [ip=<ip>] [script=<script>] [backend=<BackDomain>] [vifname=<name>] [rate=<rate>] [model=<model>] [accel=<accel>]',
  summary: 'Create a new virtual network device', spec: { short: '', required: 1 },
  async run(p) {
    return withHost(async (c) => {
      await c.call('network-attach', { domain: p.operands[0]!, spec: p.operands.slice(1) });
      return 0;
    });
  },
});

const networkDetach = xlCommand({
  name: 'network-detach', synopsis: '<Domain> <DevId|mac>', summary: 'Destroy a domain\'s virtual network device',
  spec: { short: '', required: 2 },
  async run(p) {
    return withHost(async (c) => {
      await c.call('network-detach', { domain: p.operands[0]!, device: p.operands[1]! });
      return 0;
    });
  },
});

export const DEVICE_COMMANDS: readonly Command[] = [
  networkAttach, lister('network-list', 'List virtual network interfaces for a domain', 'network-list', formatNetworkList), networkDetach,
  blockAttach, lister('block-list', 'List virtual block devices for a domain', 'block-list', formatBlockList), blockDetach,
];
