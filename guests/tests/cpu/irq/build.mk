$(eval $(call kernel,cpu-irq,tests/cpu/irq/irq.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
