/* For the stats test: a known number of calls and a known memory growth. It prints its
 * initial memory size in pages, grows memory by 16 pages, yields 3 times and reads the
 * clock 7 times. */
#include <sched.h>
#include <stdio.h>
#include <time.h>

int main(void) {
    unsigned long initial = __builtin_wasm_memory_size(0);
    if (__builtin_wasm_memory_grow(0, 16) == (unsigned long)-1) return 1;
    for (int i = 0; i < 3; i++) sched_yield();
    struct timespec ts;
    for (int i = 0; i < 7; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("initial pages %lu\n", initial);
    return 0;
}
