# The guest-side Xen library for 32-bit PAE PV kernels: hypercall page and wrappers, PV
# console ring (both directions), event channels, grant tables (gnttab), the xenstore client
# (xenbus), system/wall-clock time. Shared by the PV test
# framework (tests/pv) and any other PV kernel.
$(eval $(call library,xen,lib/xen/hypercall_entry.S lib/xen/hypercall.c lib/xen/console.c lib/xen/evtchn.c lib/xen/time.c \
                                    lib/xen/gnttab.c lib/xen/xenbus.c))
