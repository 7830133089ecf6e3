/* Sleeps for argv[1] milliseconds with nanosleep (poll_oneoff underneath), then checks
 * on the monotonic clock that at least that long passed. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    long ms = argc > 1 ? atol(argv[1]) : 100;
    struct timespec start, end, req = {ms / 1000, (ms % 1000) * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (nanosleep(&req, NULL) != 0) { perror("nanosleep"); return 2; }
    clock_gettime(CLOCK_MONOTONIC, &end);
    long elapsed = (end.tv_sec - start.tv_sec) * 1000L + (end.tv_nsec - start.tv_nsec) / 1000000L;
    if (elapsed < ms) { printf("woke early: %ld < %ld ms\n", elapsed, ms); return 1; }
    printf("slept at least %ld ms\n", ms);
    return 0;
}
