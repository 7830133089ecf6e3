// Greets its arguments as examples/hello.wat does (`hello, ARGS!`): a C guest with
// wasi-libc for instance-per-request figures (examples/per_request).
#include <stdio.h>

int main(int argc, char **argv) {
    fputs("hello, ", stdout);
    if (argc < 2) fputs("world", stdout);
    for (int i = 1; i < argc; i++) {
        if (i > 1) fputc(' ', stdout);
        fputs(argv[i], stdout);
    }
    fputs("!\n", stdout);
    return 0;
}
