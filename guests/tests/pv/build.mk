# PV test kernels: every tests/pv/<name>.c is one kernel, build/pv-<name>.elf, linked
# with the framework (tests/pv/lib), the printf core (lib/fmt), the guest-side Xen library
# (lib/xen) and lib/rt.
# head.S is linked as an object, not from the archive, so its ELF notes and _start are
# always present.
PVTEST_LIB_SRCS := tests/pv/lib/boot.c tests/pv/lib/check.c tests/pv/lib/print.c \
                   tests/pv/lib/traps.S tests/pv/lib/traps.c tests/pv/lib/mm.c \
                   tests/pv/lib/user.S
$(eval $(call library,pvtest,$(PVTEST_LIB_SRCS)))

PV_TESTS := $(sort $(basename $(notdir $(wildcard tests/pv/*.c))))
PV_TEST_LIBS := $(BUILD)/libpvtest.a $(BUILD)/libfmt.a $(BUILD)/libxen.a $(BUILD)/librt.a
$(foreach t,$(PV_TESTS),$(eval $(call kernel,pv-$(t),tests/pv/lib/head.S tests/pv/$(t).c,tests/pv/lib/pvtest.ld,$(PV_TEST_LIBS))))

.PHONY: pv-tests
pv-tests: $(foreach t,$(PV_TESTS),$(BUILD)/pv-$(t).elf)
