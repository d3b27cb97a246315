$(eval $(call kernel,cpu-io,tests/cpu/io/io.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
