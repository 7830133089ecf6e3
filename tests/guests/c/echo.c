/* Accepts one connection on the listening socket at fd 3 (wasi-libc's accept, recv,
 * send, shutdown) and echoes until the peer is done. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int conn = accept(3, NULL, NULL);
    if (conn < 0) { perror("accept"); return 1; }
    char buf[1024];
    long total = 0;
    for (;;) {
        ssize_t n = recv(conn, buf, sizeof buf, 0);
        if (n < 0) { perror("recv"); return 2; }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = send(conn, buf + off, n - off, 0);
            if (w <= 0) { perror("send"); return 3; }
            off += w;
        }
        total += n;
    }
    if (shutdown(conn, SHUT_RDWR) != 0) { perror("shutdown"); return 4; }
    printf("echoed %ld bytes\n", total);
    return 0;
}
