$(eval $(call kernel,cpu-x87,tests/cpu/x87/x87.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
