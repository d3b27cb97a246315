# Support for bare-metal (no hypervisor) Multiboot kernels: boot stub, COM1, exit port.
$(eval $(call library,bare,lib/bare/multiboot.S lib/bare/serial.c))
