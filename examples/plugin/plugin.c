/* A plugin in C: stores its arguments in the host's key-value store, reads one back,
 * logs, and scales a number. Its imports are declared by the header the example writes:
 *   cargo run --example plugin -- --bindings examples/plugin */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plugin_imports.h"

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        uint32_t n = kv_put(argv[i], strlen(argv[i]), (const uint8_t *)argv[i + 1], strlen(argv[i + 1]));
        printf("plugin: put %s, now %u keys\n", argv[i], n);
    }
    lucet_wasi_list_u8_t colour; /* the value is ours: freed below */
    if (kv_get("colour", 6, &colour)) {
        printf("plugin: colour is %.*s\n", (int)colour.len, (const char *)colour.ptr);
        free(colour.ptr);
    } else {
        printf("plugin: no colour\n");
    }
    const char *msg = "hello from C";
    env_log(1, msg, strlen(msg));
    printf("plugin: scale(1.5, 4) = %g\n", env_scale(1.5, 4.0f));
    return 0;
}
