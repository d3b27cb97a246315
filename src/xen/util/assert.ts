/**
 * Error tier 3 (docs/conventions.md): a hypervisor bug. `assert` throws XenBug, which no
 * hypercall path catches, so a broken invariant fails the test (or stops the host) instead
 * of corrupting state silently. Guest mistakes never reach here: they are -errno returns
 * (tier 1) or domainCrash (tier 2).
 */

export class XenBug extends Error {
  override name = 'XenBug';
}

export function assert(cond: boolean, what: string): asserts cond {
  if (!cond) throw new XenBug(`Xen BUG: ${what}`);
}

export function bug(what: string): never {
  throw new XenBug(`Xen BUG: ${what}`);
}
