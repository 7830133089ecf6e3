// A reactor module (built with -mexec-model=reactor): no main, exported functions the
// host calls many times, static constructors that _initialize must run exactly once.
// The host allocates with the exported malloc, writes its input there, calls `greet`,
// reads the result and frees both.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int constructed;        // how many times the constructor ran
static char *prefix;           // made by the constructor: NULL if it never ran
static size_t last_len;        // length of the last greeting

__attribute__((constructor)) static void setup(void) {
    constructed++;
    prefix = strdup("Hello, ");
}

__attribute__((export_name("constructed"))) int get_constructed(void) { return constructed; }

__attribute__((export_name("last_len"))) size_t get_last_len(void) { return last_len; }

// "Hello, NAME!" with NAME upper-cased, in fresh memory the caller frees.
__attribute__((export_name("greet"))) char *greet(const char *name, size_t len) {
    if (prefix == NULL) {
        return NULL;  // not initialised
    }
    size_t plen = strlen(prefix);
    char *out = malloc(plen + len + 2);
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, prefix, plen);
    for (size_t i = 0; i < len; i++) {
        out[plen + i] = (char)toupper((unsigned char)name[i]);
    }
    out[plen + len] = '!';
    out[plen + len + 1] = '\0';
    last_len = plen + len + 1;
    return out;
}

// The sum of `len` bytes at `p`: reads what the host wrote into memory directly.
__attribute__((export_name("sum"))) unsigned sum(const unsigned char *p, size_t len) {
    unsigned s = 0;
    for (size_t i = 0; i < len; i++) {
        s += p[i];
    }
    return s;
}
