/*
 * interp.c — benchmark workload: a small register-machine bytecode
 * interpreter with switch dispatch.
 *
 * An interpreter inside the interpreter: the hot loop is a load of the
 * next instruction and an indirect jump through a switch (br_table in
 * wasm), which is exactly what CPython-on-wasm spends its time doing.  Two
 * hand-assembled programs run each round: Collatz step counts over a range
 * of integers (branchy) and an LCG mixing loop (multiply-heavy).
 */
#include "workload.h"

enum {
    OP_HALT,
    OP_LI,    /* r[a] = b | c << 8 */
    OP_ADD,   /* r[a] = r[b] + r[c] */
    OP_SUB,
    OP_MUL,
    OP_AND,
    OP_OR,
    OP_XOR,
    OP_ADDI,  /* r[a] = r[b] + (int8_t)c */
    OP_SHLI,  /* r[a] = r[b] << c */
    OP_SHRI,  /* r[a] = r[b] >> c */
    OP_ROTL,  /* r[a] = rotl(r[b], c) */
    OP_JMP,   /* pc = c */
    OP_JZ,    /* if r[a] == 0: pc = c */
    OP_JNZ,
    OP_JEQ,   /* if r[a] == r[b]: pc = c */
    OP_JLTU,  /* if r[a] < r[b] (unsigned): pc = c */
};

typedef struct insn {
    uint8_t op, a, b, c;
} insn;

#define I(op, a, b, c) {OP_##op, a, b, c}

/* In: r0 = first x, r1 = end.  Out: r2 = total Collatz steps, r3 = hash.
 * x stays below 65536 + 64, whose trajectories fit in 32 bits. */
static const insn prog_collatz[] = {
    /*  0 */ I(LI, 6, 1, 0),
    /*  1 */ I(LI, 2, 0, 0),
    /*  2 */ I(LI, 3, 0, 0),
    /*  3 outer: */ I(JLTU, 0, 1, 5),
    /*  4 */ I(HALT, 0, 0, 0),
    /*  5 */ I(ADDI, 4, 0, 0),
    /*  6 */ I(LI, 5, 0, 0),
    /*  7 inner: */ I(JEQ, 4, 6, 17),
    /*  8 */ I(AND, 7, 4, 6),
    /*  9 */ I(JNZ, 7, 0, 12),
    /* 10 */ I(SHRI, 4, 4, 1),
    /* 11 */ I(JMP, 0, 0, 15),
    /* 12 odd: */ I(ADD, 7, 4, 4),
    /* 13 */ I(ADD, 4, 7, 4),
    /* 14 */ I(ADDI, 4, 4, 1),
    /* 15 step: */ I(ADDI, 5, 5, 1),
    /* 16 */ I(JMP, 0, 0, 7),
    /* 17 done: */ I(ADD, 2, 2, 5),
    /* 18 */ I(XOR, 3, 3, 5),
    /* 19 */ I(ROTL, 3, 3, 7),
    /* 20 */ I(XOR, 3, 3, 0),
    /* 21 */ I(ADDI, 0, 0, 1),
    /* 22 */ I(JMP, 0, 0, 3),
};

/* In: r0 = iterations, r1 = seed.  Out: r2 = mixed high halves of an LCG. */
static const insn prog_lcg[] = {
    /*  0 */ I(LI, 7, 0xc6, 0x41),
    /*  1 */ I(SHLI, 7, 7, 16),
    /*  2 */ I(LI, 6, 0x6d, 0x4e),
    /*  3 */ I(OR, 7, 7, 6), /* r7 = 1103515245 */
    /*  4 */ I(LI, 6, 0x39, 0x30), /* r6 = 12345 */
    /*  5 */ I(LI, 5, 1, 0),
    /*  6 loop: */ I(JZ, 0, 0, 14),
    /*  7 */ I(MUL, 1, 1, 7),
    /*  8 */ I(ADD, 1, 1, 6),
    /*  9 */ I(SHRI, 4, 1, 16),
    /* 10 */ I(XOR, 2, 2, 4),
    /* 11 */ I(SUB, 0, 0, 5),
    /* 12 */ I(ROTL, 2, 2, 3),
    /* 13 */ I(JMP, 0, 0, 6),
    /* 14 */ I(HALT, 0, 0, 0),
};

/* Returns the number of instructions executed. */
static uint32_t vm_run(const insn *code, uint32_t *r) {
    uint32_t pc = 0, steps = 0;
    for (;;) {
        const insn in = code[pc++];
        steps++;
        switch (in.op) {
        case OP_HALT: return steps;
        case OP_LI: r[in.a] = (uint32_t)in.b | (uint32_t)in.c << 8; break;
        case OP_ADD: r[in.a] = r[in.b] + r[in.c]; break;
        case OP_SUB: r[in.a] = r[in.b] - r[in.c]; break;
        case OP_MUL: r[in.a] = r[in.b] * r[in.c]; break;
        case OP_AND: r[in.a] = r[in.b] & r[in.c]; break;
        case OP_OR: r[in.a] = r[in.b] | r[in.c]; break;
        case OP_XOR: r[in.a] = r[in.b] ^ r[in.c]; break;
        case OP_ADDI: r[in.a] = r[in.b] + (uint32_t)(int32_t)(int8_t)in.c; break;
        case OP_SHLI: r[in.a] = r[in.b] << (in.c & 31); break;
        case OP_SHRI: r[in.a] = r[in.b] >> (in.c & 31); break;
        case OP_ROTL: {
            uint32_t s = in.c & 31, v = r[in.b];
            r[in.a] = s ? (v << s) | (v >> (32 - s)) : v;
            break;
        }
        case OP_JMP: pc = in.c; break;
        case OP_JZ: if (r[in.a] == 0) pc = in.c; break;
        case OP_JNZ: if (r[in.a] != 0) pc = in.c; break;
        case OP_JEQ: if (r[in.a] == r[in.b]) pc = in.c; break;
        case OP_JLTU: if (r[in.a] < r[in.b]) pc = in.c; break;
        default: return 0; /* unreachable with the programs above */
        }
    }
}

uint64_t bench_interp(uint32_t n) {
    uint64_t h = 0;
    uint32_t seed = 1;
    for (uint32_t round = 0; round < n; round++) {
        uint32_t r[8] = {0};
        r[0] = (round * 64) % 65536 + 1;
        r[1] = r[0] + 64;
        uint32_t steps = vm_run(prog_collatz, r);
        h = wl_mix(h, r[2]);
        h = wl_mix(h, r[3]);
        h = wl_mix(h, steps);
        seed ^= r[3];

        uint32_t q[8] = {0};
        q[0] = 1000;
        q[1] = seed;
        steps = vm_run(prog_lcg, q);
        h = wl_mix(h, q[2]);
        h = wl_mix(h, steps);
        seed = q[1];
    }
    return h;
}
