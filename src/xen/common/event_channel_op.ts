/**
 * event_channel_op (32) and event_channel_op_compat (16): decode each EVTCHNOP struct,
 * call the worker in event_channel.ts, write OUT fields back on success
 * (event-channels.md §2-§7). The compat form passes a pointer to {cmd; union} and Xen
 * runs the command with its argument at pointer + 4.
 *
 * FIFO: tsxen offers the 2-level ABI only. init_control returns -ENOSYS (guests fall back
 * to 2-level on any error; a real Xen 4.17 would accept it); expand_array and set_priority
 * answer as Xen 4.17 does for a domain on the 2-level ABI (-EOPNOTSUPP; -EINVAL for a bad
 * port, else -ENOSYS).
 */
import { EFAULT, EINVAL, ENOSYS, EOPNOTSUPP } from '../../abi/errno.ts';
import {
  EVTCHNOP_alloc_unbound, EVTCHNOP_bind_interdomain, EVTCHNOP_bind_ipi, EVTCHNOP_bind_pirq, EVTCHNOP_bind_vcpu,
  EVTCHNOP_bind_virq, EVTCHNOP_close, EVTCHNOP_expand_array, EVTCHNOP_init_control, EVTCHNOP_reset, EVTCHNOP_send,
  EVTCHNOP_set_priority, EVTCHNOP_status, EVTCHNOP_unmask,
} from '../../abi/event_channel.ts';
import type { Xen } from '../xen.ts';
import type { Vcpu } from './vcpu.ts';
import { guestOf } from './kernel.ts';

const SIZES: Readonly<Record<number, number>> = {
  [EVTCHNOP_bind_interdomain]: 12, [EVTCHNOP_bind_virq]: 12, [EVTCHNOP_bind_pirq]: 12, [EVTCHNOP_close]: 4,
  [EVTCHNOP_send]: 4, [EVTCHNOP_status]: 24, [EVTCHNOP_alloc_unbound]: 8, [EVTCHNOP_bind_ipi]: 8,
  [EVTCHNOP_bind_vcpu]: 8, [EVTCHNOP_unmask]: 4, [EVTCHNOP_reset]: 2, [EVTCHNOP_init_control]: 16,
  [EVTCHNOP_expand_array]: 8, [EVTCHNOP_set_priority]: 8,
};

export function doEventChannelOp(xen: Xen, v: Vcpu, cmd: number, arg: number): number {
  const size = SIZES[cmd];
  if (size === undefined) return -ENOSYS;
  const mem = guestOf(v);
  const a = xen.scratch.readStruct(mem, arg, size);
  if (a === null) return -EFAULT;
  const ev = xen.evtchn;
  const d = v.domain;
  const out = (off: number, value: number): number => {
    a.setUint32(off, value, true);
    return xen.scratch.writeBack(mem, arg, size) ? 0 : -EFAULT;
  };
  switch (cmd) {
    case EVTCHNOP_alloc_unbound: {
      const p = ev.allocUnbound(d, a.getUint16(0, true), a.getUint16(2, true));
      return p < 0 ? p : out(4, p);
    }
    case EVTCHNOP_bind_interdomain: {
      const p = ev.bindInterdomain(d, a.getUint16(0, true), a.getUint32(4, true));
      return p < 0 ? p : out(8, p);
    }
    case EVTCHNOP_bind_virq: {
      const p = ev.bindVirq(d, a.getUint32(0, true), a.getUint32(4, true));
      return p < 0 ? p : out(8, p);
    }
    case EVTCHNOP_bind_ipi: {
      const p = ev.bindIpi(d, a.getUint32(0, true));
      return p < 0 ? p : out(4, p);
    }
    case EVTCHNOP_bind_pirq: {
      const p = ev.bindPirq(d, a.getUint32(0, true), a.getUint32(4, true));
      return p < 0 ? p : out(8, p);
    }
    case EVTCHNOP_close:
      return ev.close(d, a.getUint32(0, true));
    case EVTCHNOP_send:
      return ev.send(d, a.getUint32(0, true));
    case EVTCHNOP_status: {
      const s = ev.status(d, a.getUint16(0, true), a.getUint32(4, true));
      if (typeof s === 'number') return s;
      a.setUint32(8, s.status, true);
      a.setUint32(12, s.vcpu, true);
      a.setUint32(16, s.a, true);
      a.setUint32(20, s.b, true);
      return xen.scratch.writeBack(mem, arg, size) ? 0 : -EFAULT;
    }
    case EVTCHNOP_bind_vcpu:
      return ev.bindVcpu(d, a.getUint32(0, true), a.getUint32(4, true));
    case EVTCHNOP_unmask:
      return ev.unmask(d, a.getUint32(0, true));
    case EVTCHNOP_reset:
      return ev.reset(d, a.getUint16(0, true));
    case EVTCHNOP_expand_array:
      return -EOPNOTSUPP;
    case EVTCHNOP_set_priority:
      return d.evtchn !== null && d.evtchn.portValid(a.getUint32(0, true)) ? -ENOSYS : -EINVAL;
    default:
      return -ENOSYS;
  }
}

export function doEventChannelOpCompat(xen: Xen, v: Vcpu, arg: number): number {
  const cmd = xen.scratch.readU32(guestOf(v), arg);
  if (cmd === null) return -EFAULT;
  return doEventChannelOp(xen, v, cmd, arg + 4);
}
