$(eval $(call kernel,cpu-v86,tests/cpu/v86/v86.c tests/cpu/v86/v86_asm.S,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
