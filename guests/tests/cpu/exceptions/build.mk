$(eval $(call kernel,cpu-exceptions,tests/cpu/exceptions/exceptions.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
