/**
 * src/xen: the hypervisor. Owns the emulated machine (src/hw), creates domains, and runs
 * their vCPUs; speaks only the public ABI (src/abi) to its domains, dom0 included. It never
 * imports src/dom0.
 */
export const XEN_LAYER = 'xen';
