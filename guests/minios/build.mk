# minios: tsxen's own 32-bit PAE PV kernel (docs/minios.md). One image, build/minios.elf,
# linked with the printf core (lib/fmt), the guest-side Xen library (lib/xen) and the
# compiler runtime (lib/rt).
# head.S comes first so its ELF notes and _start lead the image.
MINIOS_SRCS := minios/arch/x86_32/head.S minios/arch/x86_32/entry.S minios/arch/x86_32/traps.c \
               minios/arch/x86_32/mm.c \
               minios/kernel/main.c minios/kernel/printk.c minios/kernel/lib.c \
               minios/kernel/events.c minios/kernel/sched.c minios/kernel/smp.c \
               minios/kernel/cmdline.c minios/kernel/control.c \
               minios/mm/page_alloc.c minios/mm/p2m.c minios/mm/balloon.c \
               minios/xen/console.c minios/xen/gnttab.c minios/xen/xenbus.c \
               minios/drivers/blkfront.c minios/drivers/netfront.c \
               minios/net/net_core.c minios/net/arp.c minios/net/ipv4.c minios/net/udp.c \
               minios/shell/shell.c minios/shell/cmd_sys.c minios/shell/cmd_mem.c \
               minios/shell/cmd_disk.c minios/shell/cmd_net.c
$(eval $(call kernel,minios,$(MINIOS_SRCS),minios/minios.ld,$(BUILD)/libfmt.a $(BUILD)/libxen.a $(BUILD)/librt.a))

.PHONY: minios
minios: $(BUILD)/minios.elf
