# The AOT tier embeds its artifact runtime (src/engine/aot.c .incbin's these),
# so aot.o depends on them beyond what the compiler's -MMD can see.
$(BUILD)/obj/src/engine/aot.o: src/engine/aot_rt.c src/engine/aot_abi.h src/engine/aot_inject.h
