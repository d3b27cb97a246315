# Device-channel test kernels (event channels, grant tables, xenstore between domains):
# every tests/devchan/<name>.c is one kernel, build/devchan-<name>.elf, built on the PV test
# framework (tests/pv/lib: boot, console, checks, verdict) plus the devchan helpers
# (tests/devchan/lib: xenstore rendezvous with the peer domain, grant table setup).
# Scenarios (which kernels run together, with which roles) are in tests/devchan/scenarios.ts.
$(eval $(call library,devchan,tests/devchan/lib/devchan.c))

DEVCHAN_TESTS := $(sort $(basename $(notdir $(wildcard tests/devchan/*.c))))
DEVCHAN_LIBS := $(BUILD)/libdevchan.a $(BUILD)/libpvtest.a $(BUILD)/libfmt.a $(BUILD)/libxen.a $(BUILD)/librt.a
$(foreach t,$(DEVCHAN_TESTS),$(eval $(call kernel,devchan-$(t),tests/pv/lib/head.S tests/devchan/$(t).c,tests/pv/lib/pvtest.ld,$(DEVCHAN_LIBS))))

.PHONY: devchan-tests
devchan-tests: $(foreach t,$(DEVCHAN_TESTS),$(BUILD)/devchan-$(t).elf)
