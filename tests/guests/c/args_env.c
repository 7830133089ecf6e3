/* Prints its arguments, then the variable GREETING, then every environment variable. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        printf("arg[%d]=%s\n", i, argv[i]);
    }
    const char *greeting = getenv("GREETING");
    if (greeting) {
        printf("GREETING=%s\n", greeting);
    } else {
        printf("GREETING is unset\n");
    }
    for (char **e = environ; *e; e++) {
        printf("env %s\n", *e);
    }
    return 0;
}
