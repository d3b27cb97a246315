$(eval $(call kernel,cpu-triple-fault,tests/cpu/triple_fault/triple_fault.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
