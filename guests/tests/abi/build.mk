# ABI sanity kernel: includes every generated header of include/xen with -Werror, so header
# breakage fails `make -C guests`, and exercises the C macros (rings, index masks, CR3
# packing, guest handles) at run time on bare metal; tests/abi/c_macros.test.ts runs it on
# qemu-system-i386 and compares what it prints with the TypeScript ABI.
$(eval $(call kernel,abi-sanity,tests/abi/abi_sanity.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
$(BUILD)/obj/tests/abi/abi_sanity.c.o: CFLAGS += -Werror -Wshadow -Wstrict-prototypes
