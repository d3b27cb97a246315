/**
 * Event channels (event_channel.h; C header: xen/event_channel.h): EVTCHNOP_* commands of
 * hypercall 32 (and the 3.0-era compat form, hypercall 16), their argument structs, status
 * values and the FIFO ABI structs (Xen 4.4+).
 *
 * Invariants:
 * - Every struct is the x86_32 layout; all of them are identical on x86_64 except where a
 *   pointer appears (none here).
 * - For commands with OUT fields Xen copies the whole struct back only when rc == 0.
 * - The compat form (hypercall 16) takes struct evtchn_op; Xen runs the command with the
 *   argument pointer at offset 4 (the union), so OUT fields are written in place.
 * - Source: shared/abi/event-channels.md.
 */
import { domid_t } from './xen.ts';
import { alias, arr, f, struct, u32, u64, u8, union } from './layout.ts';

export * from './gen/event_channel.ts';

/** `evtchn_port_t`: a port number (u32). Port 0 is never handed out. */
export const evtchn_port_t = alias('evtchn_port_t', u32);

// ---- Commands -------------------------------------------------------------------------

export const EVTCHNOP_bind_interdomain = 0;
export const EVTCHNOP_bind_virq = 1;
export const EVTCHNOP_bind_pirq = 2;
export const EVTCHNOP_close = 3;
export const EVTCHNOP_send = 4;
export const EVTCHNOP_status = 5;
export const EVTCHNOP_alloc_unbound = 6;
export const EVTCHNOP_bind_ipi = 7;
export const EVTCHNOP_bind_vcpu = 8;
/** 3.0.2+ */
export const EVTCHNOP_unmask = 9;
/** 3.1+ */
export const EVTCHNOP_reset = 10;
/** FIFO ABI (4.4+); returning -ENOSYS for 11-13 is the 3.x-faithful choice. */
export const EVTCHNOP_init_control = 11;
export const EVTCHNOP_expand_array = 12;
export const EVTCHNOP_set_priority = 13;

// ---- Argument structs -------------------------------------------------------------------

export const evtchn_alloc_unbound = struct('evtchn_alloc_unbound', [
  f('dom', domid_t, 'domain to allocate the port in (DOMID_SELF or privileged other)', 'IN'),
  f('remote_dom', domid_t, 'domain allowed to bind it later (DOMID_SELF = caller)', 'IN'),
  f('port', evtchn_port_t, 'new port, state unbound', 'OUT'),
], { size: 8 });

export const evtchn_bind_interdomain = struct('evtchn_bind_interdomain', [
  f('remote_dom', domid_t, 'peer domain (DOMID_SELF allowed)', 'IN'),
  f('remote_port', evtchn_port_t, 'peer\'s unbound port that accepts the caller', 'IN'),
  f('local_port', evtchn_port_t, 'new local port, connected and set pending', 'OUT'),
], { size: 12 });

export const evtchn_bind_virq = struct('evtchn_bind_virq', [
  f('virq', u32, 'VIRQ_*', 'IN'),
  f('vcpu', u32, 'vCPU to notify (0 for global VIRQs)', 'IN'),
  f('port', evtchn_port_t, '', 'OUT'),
], { size: 12 });

export const BIND_PIRQ__WILL_SHARE = 1;

export const evtchn_bind_pirq = struct('evtchn_bind_pirq', [
  f('pirq', u32, 'physical IRQ', 'IN'),
  f('flags', u32, 'BIND_PIRQ__*', 'IN'),
  f('port', evtchn_port_t, '', 'OUT'),
], { size: 12 });

export const evtchn_bind_ipi = struct('evtchn_bind_ipi', [
  f('vcpu', u32, '', 'IN'),
  f('port', evtchn_port_t, '', 'OUT'),
], { size: 8 });

export const evtchn_close = struct('evtchn_close', [f('port', evtchn_port_t, '', 'IN')], { size: 4 });
export const evtchn_send = struct('evtchn_send', [f('port', evtchn_port_t, '', 'IN')], { size: 4 });

export const EVTCHNSTAT_closed = 0;
export const EVTCHNSTAT_unbound = 1;
export const EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_pirq = 3;
export const EVTCHNSTAT_virq = 4;
export const EVTCHNSTAT_ipi = 5;

export const evtchn_status = struct('evtchn_status', [
  f('dom', domid_t, 'DOMID_SELF or (privileged) other domain', 'IN'),
  f('port', evtchn_port_t, '', 'IN'),
  f('status', u32, 'EVTCHNSTAT_*', 'OUT'),
  f('vcpu', u32, 'vCPU the channel notifies', 'OUT'),
  f('u', union(null, [
    f('unbound', struct(null, [f('dom', domid_t, 'domain allowed to connect')])),
    f('interdomain', struct(null, [f('dom', domid_t, 'peer domain'), f('port', evtchn_port_t, 'peer port')])),
    f('pirq', u32),
    f('virq', u32),
  ]), 'by status', 'OUT'),
], { size: 24 });

export const evtchn_bind_vcpu = struct('evtchn_bind_vcpu', [
  f('port', evtchn_port_t, '', 'IN'),
  f('vcpu', u32, '', 'IN'),
], { size: 8 });

export const evtchn_unmask = struct('evtchn_unmask', [f('port', evtchn_port_t, '', 'IN')], { size: 4 });

export const evtchn_reset = struct('evtchn_reset', [f('dom', domid_t, 'DOMID_SELF or privileged other', 'IN')], { size: 2 });

export const evtchn_init_control = struct('evtchn_init_control', [
  f('control_gfn', u64, 'frame holding the per-vCPU control block', 'IN'),
  f('offset', u32, 'offset of the block in that frame (8-aligned, <= 4096 - 72)', 'IN'),
  f('vcpu', u32, '', 'IN'),
  f('link_bits', u8, 'EVTCHN_FIFO_LINK_BITS', 'OUT'),
  arr('_pad', u8, 7),
], { size: 24 });

export const evtchn_expand_array = struct('evtchn_expand_array', [
  f('array_gfn', u64, 'frame to add to the event array', 'IN'),
], { size: 8 });

export const evtchn_set_priority = struct('evtchn_set_priority', [
  f('port', evtchn_port_t, '', 'IN'),
  f('priority', u32, '0 (highest) .. 15', 'IN'),
], { size: 8 });

/** Argument of the compat hypercall 16: the command and the 3.0-era union. */
export const evtchn_op = struct('evtchn_op', [
  f('cmd', u32, 'EVTCHNOP_*'),
  f('u', union(null, [
    f('alloc_unbound', evtchn_alloc_unbound),
    f('bind_interdomain', evtchn_bind_interdomain),
    f('bind_virq', evtchn_bind_virq),
    f('bind_pirq', evtchn_bind_pirq),
    f('bind_ipi', evtchn_bind_ipi),
    f('close', evtchn_close),
    f('send', evtchn_send),
    f('status', evtchn_status),
    f('bind_vcpu', evtchn_bind_vcpu),
    f('unmask', evtchn_unmask),
  ]), 'argument; Xen runs the command on &u'),
], { size: 28 });

// ---- FIFO ABI (Xen 4.4+) ------------------------------------------------------------------

/** `event_word_t`: one port's FIFO event word. */
export const event_word_t = alias('event_word_t', u32);
export const EVTCHN_FIFO_PRIORITY_MAX = 0;
export const EVTCHN_FIFO_PRIORITY_DEFAULT = 7;
export const EVTCHN_FIFO_PRIORITY_MIN = 15;
export const EVTCHN_FIFO_MAX_QUEUES = 16;
export const EVTCHN_FIFO_PENDING = 31;
export const EVTCHN_FIFO_MASKED = 30;
export const EVTCHN_FIFO_LINKED = 29;
export const EVTCHN_FIFO_BUSY = 28;
export const EVTCHN_FIFO_LINK_BITS = 17;
export const EVTCHN_FIFO_LINK_MASK = (1 << 17) - 1;
/** 2^LINK_BITS ports. */
export const EVTCHN_FIFO_NR_CHANNELS = 1 << 17;
/** Event words per event-array page. */
export const EVTCHN_FIFO_EVENT_WORDS_PER_PAGE = 1024;
/** Event-array pages a domain may add. */
export const EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES = 128;

export const evtchn_fifo_control_block = struct('evtchn_fifo_control_block', [
  f('ready', u32, 'bit q: queue q is non-empty'),
  f('_rsvd', u32),
  arr('head', event_word_t, EVTCHN_FIFO_MAX_QUEUES, 'first port of each priority queue'),
], { size: 72 });
