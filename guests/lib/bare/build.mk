# Support for bare-metal (no hypervisor) Multiboot kernels: boot stub, COM1 and kprintf,
# exit port, and the test framework (descriptor tables, traps, checks, page tables,
# PIC/PIT, Multiboot command line).
$(eval $(call library,bare,lib/bare/multiboot.S lib/bare/serial.c lib/bare/kprintf.c \
  lib/bare/desc.c lib/bare/trap.S lib/bare/trap.c lib/bare/test.c lib/bare/paging.c \
  lib/bare/pic.c lib/bare/mb.c))
