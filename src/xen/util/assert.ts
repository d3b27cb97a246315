/**
 * Error tier 3 (docs/conventions.md): a hypervisor bug. `assert` throws XenBug, which no
 * hypercall path catches, so a broken invariant fails the test (or stops the host) instead
 * of corrupting state silently. Guest mistakes never reach here: they are -errno returns
 * (tier 1) or domainCrash (tier 2).
 */

export class XenBug extends Error {
  override name = 'XenBug';
}

/** `what` may be a function so a hot path builds its message only when the check fails. */
export function assert(cond: boolean, what: string | (() => string)): asserts cond {
  if (!cond) throw new XenBug(`Xen BUG: ${typeof what === 'string' ? what : what()}`);
}

export function bug(what: string): never {
  throw new XenBug(`Xen BUG: ${what}`);
}
