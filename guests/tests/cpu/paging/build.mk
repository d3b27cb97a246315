$(eval $(call kernel,cpu-paging,tests/cpu/paging/paging.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
