/**
 * src/dom0: the control domain, a native TypeScript domain 0: xenstored, the toolstack,
 * backends, the HVM device model and native drivers. It reaches the hypervisor only through
 * hypercalls (src/abi plus a small port object), never by importing src/xen.
 */
export const DOM0_LAYER = 'dom0';
