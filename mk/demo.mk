# The built-in demo guest, compiled to a bare wasm module and embedded in
# the pylon binary (src/cli/cmd_demo.c includes it with .incbin).
DEMO_WASM := $(BUILD)/demo/crc32c.wasm

$(DEMO_WASM): examples/demo/crc32c.c
	@mkdir -p $(dir $@)
	$(WASM_CC) --target=wasm32 -mcpu=mvp -O2 -nostdlib -ffreestanding -c $< -o $(BUILD)/demo/crc32c.o
	wasm-ld-19 --no-entry --strip-all $(BUILD)/demo/crc32c.o -o $@

$(BUILD)/obj/src/cli/cmd_demo.o: $(DEMO_WASM)
$(BUILD)/obj/src/cli/cmd_demo.o: CFLAGS += -DPYLON_DEMO_WASM='"$(DEMO_WASM)"'
