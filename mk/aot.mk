# The AOT tier embeds its artifact runtime (src/engine/aot_build.c .incbin's these),
# so aot_build.o depends on them beyond what the compiler's -MMD can see.
$(BUILD)/obj/src/engine/aot_build.o: src/engine/aot_rt.c src/engine/aot_abi.h src/engine/aot_inject.h
