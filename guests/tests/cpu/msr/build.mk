$(eval $(call kernel,cpu-msr,tests/cpu/msr/msr.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
