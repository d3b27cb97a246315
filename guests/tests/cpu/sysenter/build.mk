$(eval $(call kernel,cpu-sysenter,tests/cpu/sysenter/sysenter.c tests/cpu/sysenter/sysenter_asm.S,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
