/* For the trace test: opens, reads, lists and removes files in the preopen /sandbox,
 * and fails once on purpose (a missing file: ENOENT). No argc/argv, no stdio buffering
 * surprises: every write is a direct write(2). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void say(const char *s) { write(1, s, strlen(s)); }

int main(void) {
    char buf[64];
    int fd = open("/sandbox/in.txt", O_RDONLY);
    if (fd < 0) return 1;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n != 6) return 2;
    close(fd);

    if (open("/sandbox/missing.txt", O_RDONLY) >= 0 || errno != ENOENT) return 3;

    fd = open("/sandbox/out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 4;
    if (write(fd, "written\n", 8) != 8) return 5;
    close(fd);

    DIR *dir = opendir("/sandbox");
    if (!dir) return 6;
    int entries = 0;
    while (readdir(dir)) entries++;
    closedir(dir);
    if (entries != 4) return 7; /* ., .., in.txt, out.txt */

    if (unlink("/sandbox/out.txt") != 0) return 8;
    say("done\n");
    return 0;
}
