/*
 * opcodes.h — the one table of WebAssembly's "plain" instructions.
 *
 * Every numeric, comparison, conversion, load and store instruction is one
 * row here.  compile.c expands the rows into its opcode switch (the row's
 * types drive validation), and interp.c expands the same rows into its
 * handlers (the row's statement is the semantics).  So an opcode is defined
 * exactly once.  Control flow, locals, globals, tables, references and the
 * bulk-memory instructions have structure of their own and are written out
 * by hand in both files.
 *
 * Row shapes (code: the opcode byte, or 0xFC00|sub for 0xFC-prefixed ones):
 *   UNOP (code, name, in, out, cin, cout, stmt)   r = f(a)
 *   BINOP(code, name, in, out, cin, cout, stmt)   r = f(a, b)
 *   CMPOP(code, name, in, cin, expr)              i32 result; also fused
 *                                                 with br_if / if
 *   LOAD (code, name, out, mtype, cout, align)    r = (cout)*(mtype*)ea
 *   STORE(code, name, in, cin, mtype, align)      *(mtype*)ea = (mtype)v
 * `in`/`out` are value types (I32 ...), `cin`/`cout` the C types the
 * interpreter reads and writes, `align` the natural alignment (log2).
 * Statements assign `r` and may TRAP(kind, "message").
 *
 * PL_RND(f, a): libm's rounding functions may return a signalling NaN
 * unchanged; wasm wants a quiet (arithmetic) NaN, which a + a gives.
 */
#define PL_RND(f, a) ((a) != (a) ? (a) + (a) : f(a))

#define PL_OPCODES(UNOP, BINOP, CMPOP, LOAD, STORE) \
    LOAD(0x28, i32_load,     I32, uint32_t, uint32_t, 2) \
    LOAD(0x29, i64_load,     I64, uint64_t, uint64_t, 3) \
    LOAD(0x2a, f32_load,     F32, uint32_t, uint32_t, 2) \
    LOAD(0x2b, f64_load,     F64, uint64_t, uint64_t, 3) \
    LOAD(0x2c, i32_load8_s,  I32, int8_t,   uint32_t, 0) \
    LOAD(0x2d, i32_load8_u,  I32, uint8_t,  uint32_t, 0) \
    LOAD(0x2e, i32_load16_s, I32, int16_t,  uint32_t, 1) \
    LOAD(0x2f, i32_load16_u, I32, uint16_t, uint32_t, 1) \
    LOAD(0x30, i64_load8_s,  I64, int8_t,   uint64_t, 0) \
    LOAD(0x31, i64_load8_u,  I64, uint8_t,  uint64_t, 0) \
    LOAD(0x32, i64_load16_s, I64, int16_t,  uint64_t, 1) \
    LOAD(0x33, i64_load16_u, I64, uint16_t, uint64_t, 1) \
    LOAD(0x34, i64_load32_s, I64, int32_t,  uint64_t, 2) \
    LOAD(0x35, i64_load32_u, I64, uint32_t, uint64_t, 2) \
    STORE(0x36, i32_store,   I32, uint32_t, uint32_t, 2) \
    STORE(0x37, i64_store,   I64, uint64_t, uint64_t, 3) \
    STORE(0x38, f32_store,   F32, uint32_t, uint32_t, 2) \
    STORE(0x39, f64_store,   F64, uint64_t, uint64_t, 3) \
    STORE(0x3a, i32_store8,  I32, uint32_t, uint8_t,  0) \
    STORE(0x3b, i32_store16, I32, uint32_t, uint16_t, 1) \
    STORE(0x3c, i64_store8,  I64, uint64_t, uint8_t,  0) \
    STORE(0x3d, i64_store16, I64, uint64_t, uint16_t, 1) \
    STORE(0x3e, i64_store32, I64, uint64_t, uint32_t, 2) \
    \
    UNOP (0x45, i32_eqz, I32, I32, uint32_t, uint32_t, r = a == 0) \
    CMPOP(0x46, i32_eq,   I32, uint32_t, a == b) \
    CMPOP(0x47, i32_ne,   I32, uint32_t, a != b) \
    CMPOP(0x48, i32_lt_s, I32, uint32_t, (int32_t)a < (int32_t)b) \
    CMPOP(0x49, i32_lt_u, I32, uint32_t, a < b) \
    CMPOP(0x4a, i32_gt_s, I32, uint32_t, (int32_t)a > (int32_t)b) \
    CMPOP(0x4b, i32_gt_u, I32, uint32_t, a > b) \
    CMPOP(0x4c, i32_le_s, I32, uint32_t, (int32_t)a <= (int32_t)b) \
    CMPOP(0x4d, i32_le_u, I32, uint32_t, a <= b) \
    CMPOP(0x4e, i32_ge_s, I32, uint32_t, (int32_t)a >= (int32_t)b) \
    CMPOP(0x4f, i32_ge_u, I32, uint32_t, a >= b) \
    UNOP (0x50, i64_eqz, I64, I32, uint64_t, uint32_t, r = a == 0) \
    CMPOP(0x51, i64_eq,   I64, uint64_t, a == b) \
    CMPOP(0x52, i64_ne,   I64, uint64_t, a != b) \
    CMPOP(0x53, i64_lt_s, I64, uint64_t, (int64_t)a < (int64_t)b) \
    CMPOP(0x54, i64_lt_u, I64, uint64_t, a < b) \
    CMPOP(0x55, i64_gt_s, I64, uint64_t, (int64_t)a > (int64_t)b) \
    CMPOP(0x56, i64_gt_u, I64, uint64_t, a > b) \
    CMPOP(0x57, i64_le_s, I64, uint64_t, (int64_t)a <= (int64_t)b) \
    CMPOP(0x58, i64_le_u, I64, uint64_t, a <= b) \
    CMPOP(0x59, i64_ge_s, I64, uint64_t, (int64_t)a >= (int64_t)b) \
    CMPOP(0x5a, i64_ge_u, I64, uint64_t, a >= b) \
    CMPOP(0x5b, f32_eq, F32, float, a == b) \
    CMPOP(0x5c, f32_ne, F32, float, a != b) \
    CMPOP(0x5d, f32_lt, F32, float, a < b) \
    CMPOP(0x5e, f32_gt, F32, float, a > b) \
    CMPOP(0x5f, f32_le, F32, float, a <= b) \
    CMPOP(0x60, f32_ge, F32, float, a >= b) \
    CMPOP(0x61, f64_eq, F64, double, a == b) \
    CMPOP(0x62, f64_ne, F64, double, a != b) \
    CMPOP(0x63, f64_lt, F64, double, a < b) \
    CMPOP(0x64, f64_gt, F64, double, a > b) \
    CMPOP(0x65, f64_le, F64, double, a <= b) \
    CMPOP(0x66, f64_ge, F64, double, a >= b) \
    \
    UNOP (0x67, i32_clz,    I32, I32, uint32_t, uint32_t, r = a ? (uint32_t)__builtin_clz(a) : 32) \
    UNOP (0x68, i32_ctz,    I32, I32, uint32_t, uint32_t, r = a ? (uint32_t)__builtin_ctz(a) : 32) \
    UNOP (0x69, i32_popcnt, I32, I32, uint32_t, uint32_t, r = (uint32_t)__builtin_popcount(a)) \
    BINOP(0x6a, i32_add,   I32, I32, uint32_t, uint32_t, r = a + b) \
    BINOP(0x6b, i32_sub,   I32, I32, uint32_t, uint32_t, r = a - b) \
    BINOP(0x6c, i32_mul,   I32, I32, uint32_t, uint32_t, r = a * b) \
    BINOP(0x6d, i32_div_s, I32, I32, uint32_t, uint32_t, \
          if (b == 0) TRAP(INT_DIV_ZERO, "integer divide by zero"); \
          if (a == 0x80000000u && b == 0xffffffffu) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint32_t)((int32_t)a / (int32_t)b)) \
    BINOP(0x6e, i32_div_u, I32, I32, uint32_t, uint32_t, \
          if (b == 0) TRAP(INT_DIV_ZERO, "integer divide by zero"); r = a / b) \
    BINOP(0x6f, i32_rem_s, I32, I32, uint32_t, uint32_t, \
          if (b == 0) TRAP(INT_DIV_ZERO, "integer divide by zero"); \
          r = (b == 0xffffffffu) ? 0 : (uint32_t)((int32_t)a % (int32_t)b)) \
    BINOP(0x70, i32_rem_u, I32, I32, uint32_t, uint32_t, \
          if (b == 0) TRAP(INT_DIV_ZERO, "integer divide by zero"); r = a % b) \
    BINOP(0x71, i32_and,   I32, I32, uint32_t, uint32_t, r = a & b) \
    BINOP(0x72, i32_or,    I32, I32, uint32_t, uint32_t, r = a | b) \
    BINOP(0x73, i32_xor,   I32, I32, uint32_t, uint32_t, r = a ^ b) \
    BINOP(0x74, i32_shl,   I32, I32, uint32_t, uint32_t, r = a << (b & 31)) \
    BINOP(0x75, i32_shr_s, I32, I32, uint32_t, uint32_t, r = (uint32_t)((int32_t)a >> (b & 31))) \
    BINOP(0x76, i32_shr_u, I32, I32, uint32_t, uint32_t, r = a >> (b & 31)) \
    BINOP(0x77, i32_rotl,  I32, I32, uint32_t, uint32_t, r = (a << (b & 31)) | (a >> ((32 - b) & 31))) \
    BINOP(0x78, i32_rotr,  I32, I32, uint32_t, uint32_t, r = (a >> (b & 31)) | (a << ((32 - b) & 31))) \
    \
    UNOP (0x79, i64_clz,    I64, I64, uint64_t, uint64_t, r = a ? (uint64_t)__builtin_clzll(a) : 64) \
    UNOP (0x7a, i64_ctz,    I64, I64, uint64_t, uint64_t, r = a ? (uint64_t)__builtin_ctzll(a) : 64) \
    UNOP (0x7b, i64_popcnt, I64, I64, uint64_t, uint64_t, r = (uint64_t)__builtin_popcountll(a)) \
    BINOP(0x7c, i64_add,   I64, I64, uint64_t, uint64_t, r = a + b) \
    BINOP(0x7d, i64_sub,   I64, I64, uint64_t, uint64_t, r = a - b) \
    BINOP(0x7e, i64_mul,   I64, I64, uint64_t, uint64_t, r = a * b) \
    BINOP(0x7f, i64_div_s, I64, I64, uint64_t, uint64_t, \
          if (b == 0) TRAP(INT_DIV_ZERO, "integer divide by zero"); \
          if (a == 0x8000000000000000ull && b == ~0ull) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint64_t)((int64_t)a / (int64_t)b)) \
    BINOP(0x80, i64_div_u, I64, I64, uint64_t, uint64_t, \
          if (b == 0) TRAP(INT_DIV_ZERO, "integer divide by zero"); r = a / b) \
    BINOP(0x81, i64_rem_s, I64, I64, uint64_t, uint64_t, \
          if (b == 0) TRAP(INT_DIV_ZERO, "integer divide by zero"); \
          r = (b == ~0ull) ? 0 : (uint64_t)((int64_t)a % (int64_t)b)) \
    BINOP(0x82, i64_rem_u, I64, I64, uint64_t, uint64_t, \
          if (b == 0) TRAP(INT_DIV_ZERO, "integer divide by zero"); r = a % b) \
    BINOP(0x83, i64_and,   I64, I64, uint64_t, uint64_t, r = a & b) \
    BINOP(0x84, i64_or,    I64, I64, uint64_t, uint64_t, r = a | b) \
    BINOP(0x85, i64_xor,   I64, I64, uint64_t, uint64_t, r = a ^ b) \
    BINOP(0x86, i64_shl,   I64, I64, uint64_t, uint64_t, r = a << (b & 63)) \
    BINOP(0x87, i64_shr_s, I64, I64, uint64_t, uint64_t, r = (uint64_t)((int64_t)a >> (b & 63))) \
    BINOP(0x88, i64_shr_u, I64, I64, uint64_t, uint64_t, r = a >> (b & 63)) \
    BINOP(0x89, i64_rotl,  I64, I64, uint64_t, uint64_t, r = (a << (b & 63)) | (a >> ((64 - b) & 63))) \
    BINOP(0x8a, i64_rotr,  I64, I64, uint64_t, uint64_t, r = (a >> (b & 63)) | (a << ((64 - b) & 63))) \
    \
    UNOP (0x8b, f32_abs,     F32, F32, uint32_t, uint32_t, r = a & 0x7fffffffu) \
    UNOP (0x8c, f32_neg,     F32, F32, uint32_t, uint32_t, r = a ^ 0x80000000u) \
    UNOP (0x8d, f32_ceil,    F32, F32, float, float, r = PL_RND(ceilf, a)) \
    UNOP (0x8e, f32_floor,   F32, F32, float, float, r = PL_RND(floorf, a)) \
    UNOP (0x8f, f32_trunc,   F32, F32, float, float, r = PL_RND(truncf, a)) \
    UNOP (0x90, f32_nearest, F32, F32, float, float, r = PL_RND(nearbyintf, a)) \
    UNOP (0x91, f32_sqrt,    F32, F32, float, float, r = sqrtf(a)) \
    BINOP(0x92, f32_add, F32, F32, float, float, r = a + b) \
    BINOP(0x93, f32_sub, F32, F32, float, float, r = a - b) \
    BINOP(0x94, f32_mul, F32, F32, float, float, r = a * b) \
    BINOP(0x95, f32_div, F32, F32, float, float, r = a / b) \
    BINOP(0x96, f32_min, F32, F32, float, float, r = pl_fminf(a, b)) \
    BINOP(0x97, f32_max, F32, F32, float, float, r = pl_fmaxf(a, b)) \
    BINOP(0x98, f32_copysign, F32, F32, uint32_t, uint32_t, r = (a & 0x7fffffffu) | (b & 0x80000000u)) \
    UNOP (0x99, f64_abs,     F64, F64, uint64_t, uint64_t, r = a & 0x7fffffffffffffffull) \
    UNOP (0x9a, f64_neg,     F64, F64, uint64_t, uint64_t, r = a ^ 0x8000000000000000ull) \
    UNOP (0x9b, f64_ceil,    F64, F64, double, double, r = PL_RND(ceil, a)) \
    UNOP (0x9c, f64_floor,   F64, F64, double, double, r = PL_RND(floor, a)) \
    UNOP (0x9d, f64_trunc,   F64, F64, double, double, r = PL_RND(trunc, a)) \
    UNOP (0x9e, f64_nearest, F64, F64, double, double, r = PL_RND(nearbyint, a)) \
    UNOP (0x9f, f64_sqrt,    F64, F64, double, double, r = sqrt(a)) \
    BINOP(0xa0, f64_add, F64, F64, double, double, r = a + b) \
    BINOP(0xa1, f64_sub, F64, F64, double, double, r = a - b) \
    BINOP(0xa2, f64_mul, F64, F64, double, double, r = a * b) \
    BINOP(0xa3, f64_div, F64, F64, double, double, r = a / b) \
    BINOP(0xa4, f64_min, F64, F64, double, double, r = pl_fmin(a, b)) \
    BINOP(0xa5, f64_max, F64, F64, double, double, r = pl_fmax(a, b)) \
    BINOP(0xa6, f64_copysign, F64, F64, uint64_t, uint64_t, \
          r = (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull)) \
    \
    UNOP (0xa7, i32_wrap_i64, I64, I32, uint64_t, uint32_t, r = (uint32_t)a) \
    UNOP (0xa8, i32_trunc_f32_s, F32, I32, float, uint32_t, \
          if (a != a) TRAP(INVALID_CONVERSION, "invalid conversion to integer"); \
          if (!(a >= -2147483648.0f && a < 2147483648.0f)) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint32_t)(int32_t)a) \
    UNOP (0xa9, i32_trunc_f32_u, F32, I32, float, uint32_t, \
          if (a != a) TRAP(INVALID_CONVERSION, "invalid conversion to integer"); \
          if (!(a > -1.0f && a < 4294967296.0f)) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint32_t)a) \
    UNOP (0xaa, i32_trunc_f64_s, F64, I32, double, uint32_t, \
          if (a != a) TRAP(INVALID_CONVERSION, "invalid conversion to integer"); \
          if (!(a > -2147483649.0 && a < 2147483648.0)) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint32_t)(int32_t)a) \
    UNOP (0xab, i32_trunc_f64_u, F64, I32, double, uint32_t, \
          if (a != a) TRAP(INVALID_CONVERSION, "invalid conversion to integer"); \
          if (!(a > -1.0 && a < 4294967296.0)) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint32_t)a) \
    UNOP (0xac, i64_extend_i32_s, I32, I64, uint32_t, uint64_t, r = (uint64_t)(int64_t)(int32_t)a) \
    UNOP (0xad, i64_extend_i32_u, I32, I64, uint32_t, uint64_t, r = (uint64_t)a) \
    UNOP (0xae, i64_trunc_f32_s, F32, I64, float, uint64_t, \
          if (a != a) TRAP(INVALID_CONVERSION, "invalid conversion to integer"); \
          if (!(a >= -9223372036854775808.0f && a < 9223372036854775808.0f)) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint64_t)(int64_t)a) \
    UNOP (0xaf, i64_trunc_f32_u, F32, I64, float, uint64_t, \
          if (a != a) TRAP(INVALID_CONVERSION, "invalid conversion to integer"); \
          if (!(a > -1.0f && a < 18446744073709551616.0f)) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint64_t)a) \
    UNOP (0xb0, i64_trunc_f64_s, F64, I64, double, uint64_t, \
          if (a != a) TRAP(INVALID_CONVERSION, "invalid conversion to integer"); \
          if (!(a >= -9223372036854775808.0 && a < 9223372036854775808.0)) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint64_t)(int64_t)a) \
    UNOP (0xb1, i64_trunc_f64_u, F64, I64, double, uint64_t, \
          if (a != a) TRAP(INVALID_CONVERSION, "invalid conversion to integer"); \
          if (!(a > -1.0 && a < 18446744073709551616.0)) TRAP(INT_OVERFLOW, "integer overflow"); \
          r = (uint64_t)a) \
    UNOP (0xb2, f32_convert_i32_s, I32, F32, uint32_t, float, r = (float)(int32_t)a) \
    UNOP (0xb3, f32_convert_i32_u, I32, F32, uint32_t, float, r = (float)a) \
    UNOP (0xb4, f32_convert_i64_s, I64, F32, uint64_t, float, r = (float)(int64_t)a) \
    UNOP (0xb5, f32_convert_i64_u, I64, F32, uint64_t, float, r = (float)a) \
    UNOP (0xb6, f32_demote_f64,    F64, F32, double, float, r = (float)a) \
    UNOP (0xb7, f64_convert_i32_s, I32, F64, uint32_t, double, r = (double)(int32_t)a) \
    UNOP (0xb8, f64_convert_i32_u, I32, F64, uint32_t, double, r = (double)a) \
    UNOP (0xb9, f64_convert_i64_s, I64, F64, uint64_t, double, r = (double)(int64_t)a) \
    UNOP (0xba, f64_convert_i64_u, I64, F64, uint64_t, double, r = (double)a) \
    UNOP (0xbb, f64_promote_f32,   F32, F64, float, double, r = (double)a) \
    UNOP (0xbc, i32_reinterpret_f32, F32, I32, uint32_t, uint32_t, r = a) \
    UNOP (0xbd, i64_reinterpret_f64, F64, I64, uint64_t, uint64_t, r = a) \
    UNOP (0xbe, f32_reinterpret_i32, I32, F32, uint32_t, uint32_t, r = a) \
    UNOP (0xbf, f64_reinterpret_i64, I64, F64, uint64_t, uint64_t, r = a) \
    UNOP (0xc0, i32_extend8_s,  I32, I32, uint32_t, uint32_t, r = (uint32_t)(int32_t)(int8_t)a) \
    UNOP (0xc1, i32_extend16_s, I32, I32, uint32_t, uint32_t, r = (uint32_t)(int32_t)(int16_t)a) \
    UNOP (0xc2, i64_extend8_s,  I64, I64, uint64_t, uint64_t, r = (uint64_t)(int64_t)(int8_t)a) \
    UNOP (0xc3, i64_extend16_s, I64, I64, uint64_t, uint64_t, r = (uint64_t)(int64_t)(int16_t)a) \
    UNOP (0xc4, i64_extend32_s, I64, I64, uint64_t, uint64_t, r = (uint64_t)(int64_t)(int32_t)a) \
    \
    UNOP (0xfc00, i32_trunc_sat_f32_s, F32, I32, float, uint32_t, \
          r = a != a ? 0 : a < -2147483648.0f ? 0x80000000u : a >= 2147483648.0f ? 0x7fffffffu \
              : (uint32_t)(int32_t)a) \
    UNOP (0xfc01, i32_trunc_sat_f32_u, F32, I32, float, uint32_t, \
          r = !(a > -1.0f) ? 0 : a >= 4294967296.0f ? 0xffffffffu : (uint32_t)a) \
    UNOP (0xfc02, i32_trunc_sat_f64_s, F64, I32, double, uint32_t, \
          r = a != a ? 0 : a <= -2147483649.0 ? 0x80000000u : a >= 2147483648.0 ? 0x7fffffffu \
              : (uint32_t)(int32_t)a) \
    UNOP (0xfc03, i32_trunc_sat_f64_u, F64, I32, double, uint32_t, \
          r = !(a > -1.0) ? 0 : a >= 4294967296.0 ? 0xffffffffu : (uint32_t)a) \
    UNOP (0xfc04, i64_trunc_sat_f32_s, F32, I64, float, uint64_t, \
          r = a != a ? 0 : a < -9223372036854775808.0f ? 0x8000000000000000ull \
              : a >= 9223372036854775808.0f ? 0x7fffffffffffffffull : (uint64_t)(int64_t)a) \
    UNOP (0xfc05, i64_trunc_sat_f32_u, F32, I64, float, uint64_t, \
          r = !(a > -1.0f) ? 0 : a >= 18446744073709551616.0f ? ~0ull : (uint64_t)a) \
    UNOP (0xfc06, i64_trunc_sat_f64_s, F64, I64, double, uint64_t, \
          r = a != a ? 0 : a < -9223372036854775808.0 ? 0x8000000000000000ull \
              : a >= 9223372036854775808.0 ? 0x7fffffffffffffffull : (uint64_t)(int64_t)a) \
    UNOP (0xfc07, i64_trunc_sat_f64_u, F64, I64, double, uint64_t, \
          r = !(a > -1.0) ? 0 : a >= 18446744073709551616.0 ? ~0ull : (uint64_t)a)
