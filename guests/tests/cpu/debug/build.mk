$(eval $(call kernel,cpu-debug,tests/cpu/debug/debug.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
