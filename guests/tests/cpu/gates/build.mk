$(eval $(call kernel,cpu-gates,tests/cpu/gates/gates.c tests/cpu/gates/gates_asm.S,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
