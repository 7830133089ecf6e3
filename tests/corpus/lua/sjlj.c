/* The runtime side of LLVM's wasm setjmp/longjmp lowering (-mllvm -wasm-enable-sjlj):
 * setjmp records which function invocation and which label it belongs to; longjmp
 * throws the `__c_longjmp` tag with a pointer to {env, value}, and the frame whose
 * invocation recorded env resumes at the label. Field order follows setjmp.h. */
#include <stdint.h>

__asm__(".globl __c_longjmp\n.tagtype __c_longjmp i32\n__c_longjmp:\n");

struct buf {
    void *invocation;
    uint32_t label;
    struct {
        void *env;
        int val;
    } arg;
};

void __wasm_setjmp(void *env, uint32_t label, void *invocation) {
    struct buf *b = env;
    b->invocation = invocation;
    b->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *invocation) {
    struct buf *b = env;
    return b->invocation == invocation ? b->label : 0;
}

void __wasm_longjmp(void *env, int val) {
    struct buf *b = env;
    b->arg.env = env;
    b->arg.val = val ? val : 1;
    __builtin_wasm_throw(1, &b->arg);
}
