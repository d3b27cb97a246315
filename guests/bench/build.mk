# The benchmark: one workload object linked into the Multiboot kernel (bench.elf) and
# into a static Linux i386 program without libc (bench-native32) for callgrind counts.
$(eval $(call kernel,bench,bench/bench.c bench/workload.c,lib/bare/multiboot.ld,$(BUILD)/libbare.a $(BUILD)/librt.a))

BENCH_NATIVE_OBJS := $(BUILD)/obj/bench/native_start.S.o $(BUILD)/obj/bench/native.c.o $(BUILD)/obj/bench/workload.c.o
ALL += $(BUILD)/bench-native32
$(BUILD)/bench-native32: $(BENCH_NATIVE_OBJS) $(BUILD)/librt.a
	@mkdir -p $(@D)
	$(LD) $(LDFLAGS) -e _start -o $@ $(BENCH_NATIVE_OBJS) $(BUILD)/librt.a
