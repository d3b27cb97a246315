$(eval $(call kernel,cpu-segmentation,tests/cpu/segmentation/segmentation.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
