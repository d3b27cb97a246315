$(eval $(call kernel,cpu-tasks,tests/cpu/tasks/tasks.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
