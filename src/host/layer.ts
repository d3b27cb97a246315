/**
 * src/host: the composition root. It builds the emulated machine, boots the hypervisor on
 * it, starts dom0 and connects dom0's port to the hypervisor: the only place that imports
 * both src/xen and src/dom0.
 */
export const HOST_LAYER = 'host';
