/* Calls the host functions with owned results of tests/suite/owned.rs through the
 * header HostcallSet::c_header generated (owned.h, written by the test): each result is
 * the caller's, freed with free().
 *
 * With -DFAILING_ALLOC, its own cabi_realloc (instead of the header's) refuses anything over 512 KiB, and a 1 MiB result is asked for. */
#include <stdio.h>
#include <stdlib.h>

struct Point { float x, y; };
#ifdef FAILING_ALLOC
/* Its own allocator instead of the header's. */
#define LUCET_WASI_NO_CABI_REALLOC
#endif
#include "owned.h"

#ifdef FAILING_ALLOC
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    (void)align;
    return new_size > 512 * 1024 ? NULL : realloc(old_ptr, new_size);
}
#endif

static void lookup(const char *key, size_t key_len) {
    lucet_wasi_list_u8_t v;
    if (kv_lookup(key, key_len, &v)) {
        printf("lookup %.*s\n", (int)v.len, (const char *)v.ptr);
        free(v.ptr);
    } else {
        printf("lookup none\n");
    }
}

int main(void) {
#ifdef FAILING_ALLOC
    printf("asking\n");
    fflush(stdout);
    lucet_wasi_list_u8_t big;
    env_blob(1 << 20, 7, &big);
    printf("unreachable: %zu\n", big.len);
    return 0;
#endif
    lookup("colour", 6);
    lookup("nope", 4);
    lucet_wasi_string_t s;
    env_greet("w\xc3\xb6rld", 6, &s);
    printf("greet %.*s\n", (int)s.len, s.ptr);
    free(s.ptr);
    lucet_wasi_list_Point_t d;
    env_diagonal(3, &d);
    printf("diagonal");
    for (size_t i = 0; i < d.len; i++) {
        printf(" (%g,%g)", d.ptr[i].x, d.ptr[i].y);
    }
    printf("\n");
    free(d.ptr);
    env_diagonal(0, &d);
    printf("diagonal %s\n", d.len == 0 && d.ptr == NULL ? "empty" : "?");
    lucet_wasi_list_u8_t b;
    env_blob(1 << 20, 7, &b);
    unsigned long long sum = 0;
    for (size_t i = 0; i < b.len; i++) sum += b.ptr[i];
    printf("blob %zu %u %u %llu\n", b.len, b.ptr[0], b.ptr[b.len - 1], sum);
    free(b.ptr);
    /* Each result freed before the next: 100 MiB through a small heap. */
    for (unsigned i = 0; i < 100; i++) {
        env_blob(1 << 20, i, &b);
        if (b.len != 1 << 20 || b.ptr[1] != (uint8_t)(i + 1)) {
            printf("wrong blob %u\n", i);
            return 1;
        }
        free(b.ptr);
    }
    printf("freed\n");
    return 0;
}
