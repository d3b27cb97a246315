# The compiler runtime gcc expects from libgcc (64-bit division) and the few string
# functions gcc may emit calls to even with -fno-builtin (memcpy, memset, memmove, memcmp).
$(eval $(call library,rt,lib/rt/divdi3.c lib/rt/string.c))
