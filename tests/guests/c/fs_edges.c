/* Edge cases of open(2) through wasi-libc, with a preopen at /sandbox holding `dir/`,
 * `file` and `fifo` (a FIFO nobody else opens). Prints `ok <name>` or `FAIL <name>: ...`
 * per check, then `done`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fails;

/* An open that must fail with `want`. */
static void refused(const char *name, const char *path, int flags, int want) {
    int fd = open(path, flags);
    if (fd == -1 && errno == want) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: returned %d, errno %d (%s), want %d (%s)\n", name, fd, errno,
               strerror(errno), want, strerror(want));
        fails++;
        if (fd >= 0) close(fd);
    }
}

/* An open that must succeed on a directory. */
static void opens_dir(const char *name, const char *path, int flags) {
    int fd = open(path, flags);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: fd %d, errno %d (%s)\n", name, fd, errno, strerror(errno));
        fails++;
    }
    if (fd >= 0) close(fd);
}

int main(void) {
    /* A directory is never opened for writing. */
    refused("O_WRONLY|O_DIRECTORY of the preopen", "/sandbox", O_WRONLY | O_DIRECTORY, EISDIR);
    refused("O_RDWR|O_DIRECTORY of the preopen", "/sandbox", O_RDWR | O_DIRECTORY, EISDIR);
    refused("O_WRONLY|O_DIRECTORY of .", "/sandbox/.", O_WRONLY | O_DIRECTORY, EISDIR);
    refused("O_WRONLY|O_DIRECTORY of a subdir", "/sandbox/dir", O_WRONLY | O_DIRECTORY, EISDIR);
    refused("O_RDWR of a subdir", "/sandbox/dir", O_RDWR, EISDIR);
    refused("O_WRONLY|O_APPEND of a subdir", "/sandbox/dir", O_WRONLY | O_APPEND, EISDIR);
    refused("O_WRONLY|O_TRUNC of a subdir", "/sandbox/dir/", O_WRONLY | O_TRUNC, EISDIR);
    refused("O_CREAT of an existing subdir", "/sandbox/dir", O_CREAT | O_RDONLY, EISDIR);
    refused("O_WRONLY|O_DIRECTORY of a file", "/sandbox/file", O_WRONLY | O_DIRECTORY, ENOTDIR);
    opens_dir("O_RDONLY|O_DIRECTORY of the preopen", "/sandbox", O_RDONLY | O_DIRECTORY);
    opens_dir("O_RDONLY of a subdir", "/sandbox/dir", O_RDONLY);
    opens_dir("O_RDONLY|O_APPEND of a subdir", "/sandbox/dir", O_RDONLY | O_APPEND);
    int fd = open("/sandbox/file", O_WRONLY | O_APPEND);
    printf("%s O_WRONLY|O_APPEND of a file\n", fd >= 0 && write(fd, "x", 1) == 1 ? "ok" : "FAIL");
    if (fd < 0) fails++;
    else close(fd);

    /* FIFOs are refused at once, whichever way they are opened. */
    refused("fifo O_RDONLY", "/sandbox/fifo", O_RDONLY, ENXIO);
    refused("fifo O_WRONLY", "/sandbox/fifo", O_WRONLY, ENXIO);
    refused("fifo O_RDWR", "/sandbox/fifo", O_RDWR, ENXIO);
    refused("fifo O_RDONLY|O_NONBLOCK", "/sandbox/fifo", O_RDONLY | O_NONBLOCK, ENXIO);
    refused("fifo O_WRONLY|O_NONBLOCK", "/sandbox/fifo", O_WRONLY | O_NONBLOCK, ENXIO);
    refused("fifo O_DIRECTORY", "/sandbox/fifo", O_RDONLY | O_DIRECTORY, ENOTDIR);
    FILE *f = fopen("/sandbox/fifo", "r");
    printf("%s fopen of a fifo\n", f == NULL && errno == ENXIO ? "ok" : "FAIL");
    if (f != NULL || errno != ENXIO) fails++;
    struct stat st;
    int stat_ok = stat("/sandbox/fifo", &st) == 0;
    printf("%s stat of a fifo\n", stat_ok ? "ok" : "FAIL");
    if (!stat_ok) fails++;

    printf("done\n");
    return fails != 0;
}
