/**
 * Callback registration (callback.h; C header: xen/callback.h): CALLBACKOP_* of callback_op
 * (hypercall 30), CALLBACKTYPE_* and the register/unregister structs.
 *
 * Invariants:
 * - set_callbacks (hypercall 4) equals registering types event and failsafe with flags 0.
 * - A 32-bit guest on a 64-bit Xen 4.x (what we present) may register sysenter (5) and
 *   syscall32 (7); modern 32-bit test kernels panic on a non-zero return for them.
 * - Unregistering event, failsafe, syscall32 or sysenter returns -EINVAL; nmi may be
 *   unregistered; unknown types return -ENOSYS.
 * - Source: shared/abi/hypercalls-x86_32.md §4.2.
 */
import { xen_callback } from './arch_x86_32.ts';
import { f, struct, u16 } from './layout.ts';

export * from './gen/callback.ts';

export const CALLBACKTYPE_event = 0;
export const CALLBACKTYPE_failsafe = 1;
/** 64-bit guests only. */
export const CALLBACKTYPE_syscall = 2;
/** 32-bit Xen with a supervisor-mode kernel only. */
export const CALLBACKTYPE_sysenter_deprecated = 3;
/** NMI handler (EIP; CS is the kernel CS). */
export const CALLBACKTYPE_nmi = 4;
/** SYSENTER from a 32-bit user process (Intel), 64-bit Xen. */
export const CALLBACKTYPE_sysenter = 5;
/** SYSCALL from a 32-bit user process (AMD), 64-bit Xen. */
export const CALLBACKTYPE_syscall32 = 7;

/** Mask events while in the callback (ignored for event and nmi). */
export const _CALLBACKF_mask_events = 0;
export const CALLBACKF_mask_events = 1 << 0;

export const CALLBACKOP_register = 0;
export const CALLBACKOP_unregister = 1;

export const callback_register = struct('callback_register', [
  f('type', u16, 'CALLBACKTYPE_*', 'IN'),
  f('flags', u16, 'CALLBACKF_*', 'IN'),
  f('address', xen_callback, 'CS:EIP', 'IN'),
], { size: 12 });

export const callback_unregister = struct('callback_unregister', [
  f('type', u16, 'CALLBACKTYPE_*', 'IN'),
  f('_unused', u16),
], { size: 4 });
