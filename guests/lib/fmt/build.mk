# The printf formatting core shared by the PV kernels: vsnprintf/snprintf into a caller's
# buffer (no output device), used by the PV test framework (tests/pv/lib/print.c) and by
# minios (minios/kernel/printk.c). Each user adds its own console sink.
$(eval $(call library,fmt,lib/fmt/vsnprintf.c))
