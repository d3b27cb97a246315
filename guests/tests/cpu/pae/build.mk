$(eval $(call kernel,cpu-pae,tests/cpu/pae/pae.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
