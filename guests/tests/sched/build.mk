# Scheduling test kernels (tests/sched): every tests/sched/<name>.c is one kernel,
# build/sched-<name>.elf, on the PV test framework (tests/pv/lib) so that it boots, prints
# on the console and takes events like the PV test kernels. They never finish on their
# own: the test destroys them.
SCHED_TESTS := $(sort $(basename $(notdir $(wildcard tests/sched/*.c))))
SCHED_TEST_LIBS := $(BUILD)/libpvtest.a $(BUILD)/libfmt.a $(BUILD)/libxen.a $(BUILD)/librt.a
$(foreach t,$(SCHED_TESTS),$(eval $(call kernel,sched-$(t),tests/pv/lib/head.S tests/sched/$(t).c,tests/pv/lib/pvtest.ld,$(SCHED_TEST_LIBS))))

.PHONY: sched-tests
sched-tests: $(foreach t,$(SCHED_TESTS),$(BUILD)/sched-$(t).elf)
