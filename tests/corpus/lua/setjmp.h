/* setjmp/longjmp for wasm32-wasi programs built with clang's -mllvm -wasm-enable-sjlj:
 * the compiler lowers both calls onto wasm exception handling and the runtime in
 * sjlj.c. (The wasi-libc on these machines predates setjmp support.) */
#ifndef LUCET_WASI_TEST_SETJMP_H
#define LUCET_WASI_TEST_SETJMP_H
typedef struct {
    void *invocation;
    unsigned label;
    void *env;
    int val;
} jmp_buf[1];
int setjmp(jmp_buf env);
_Noreturn void longjmp(jmp_buf env, int val);
#endif
