/* For the trace test: writes bytes that would drive a terminal (escape sequences, a bell,
 * NUL, invalid UTF-8) to stdout, in one write longer than the trace shows. */
#include <unistd.h>

int main(void) {
    static const char data[] = "\x1b[2J\x1b]0;pwned\x07\x00\xff\xfe\r\n"
                               "and then a long tail of plain text";
    return write(1, data, sizeof data - 1) == sizeof data - 1 ? 0 : 1;
}
