$(eval $(call kernel,cpu-modes,tests/cpu/modes/modes.c tests/cpu/modes/modes_rm.S,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
