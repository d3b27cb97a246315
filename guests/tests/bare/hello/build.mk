$(eval $(call kernel,bare-hello,tests/bare/hello/hello.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))
