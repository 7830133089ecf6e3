/* The filesystem through wasi-libc, as POSIX programs use it, with a preopen at
 * /sandbox (empty). Prints `ok <name>` or `FAIL <name>: ...` per check, then `done`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static int fails;

static void check_int(const char *name, long got, long want) {
    if (got == want) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: got %ld, want %ld\n", name, got, want);
        fails++;
    }
}

/* A call that must fail with `want` in errno. */
static void check_err(const char *name, long ret, int want) {
    if (ret == -1 && errno == want) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: returned %ld, errno %d (%s), want errno %d (%s)\n", name, ret, errno,
               strerror(errno), want, strerror(want));
        fails++;
    }
}

static void check_str(const char *name, const char *got, const char *want) {
    check_int(name, strcmp(got, want), 0);
    if (strcmp(got, want) != 0) printf("  got %s, want %s\n", got, want);
}

int main(void) {
    char buf[256];
    struct stat st;

    int fd = open("/sandbox/f.txt", O_CREAT | O_EXCL | O_RDWR, 0644);
    check_int("open creat excl", fd >= 0, 1);
    check_err("open creat excl again", open("/sandbox/f.txt", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);
    check_int("write", write(fd, "hello world", 11), 11);
    check_int("lseek", lseek(fd, 0, SEEK_SET), 0);
    check_int("read", read(fd, buf, 5), 5);
    buf[5] = 0;
    check_str("read data", buf, "hello");
    check_int("pread", pread(fd, buf, 5, 6), 5);
    check_str("pread data", buf, "world");
    check_int("pwrite", pwrite(fd, "J", 1, 0), 1);
    check_int("lseek cur", lseek(fd, 0, SEEK_CUR), 5);
    check_err("lseek bad whence", lseek(fd, 0, 42), EINVAL);
    check_err("lseek negative", lseek(fd, -100, SEEK_SET), EINVAL);
    check_int("fstat", fstat(fd, &st), 0);
    check_int("fstat size", st.st_size, 11);
    check_int("fstat regular", S_ISREG(st.st_mode), 1);
    check_int("ftruncate", ftruncate(fd, 4), 0);
    check_int("size after ftruncate", (fstat(fd, &st), st.st_size), 4);
    struct timespec times[2] = {{1000, 5}, {2000, 7}};
    check_int("futimens", futimens(fd, times), 0);
    check_int("mtime after futimens", (fstat(fd, &st), st.st_mtim.tv_sec), 2000);
    check_int("posix_fadvise", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
    check_int("posix_fadvise bad advice", posix_fadvise(fd, 0, 0, 99), EINVAL);
    check_int("posix_fallocate", posix_fallocate(fd, 0, 64), 0);
    check_int("size after fallocate", (fstat(fd, &st), st.st_size), 64);
    check_int("fsync", fsync(fd), 0);
    check_int("fdatasync", fdatasync(fd), 0);
    check_int("fcntl setfl append", fcntl(fd, F_SETFL, O_APPEND), 0);
    check_int("fcntl getfl append", fcntl(fd, F_GETFL) & O_APPEND, O_APPEND);
    lseek(fd, 0, SEEK_SET);
    check_int("append write", write(fd, "END", 3), 3);
    check_int("append wrote at the end", (fstat(fd, &st), st.st_size), 67);
    check_int("pwrite in append mode", pwrite(fd, "P", 1, 1), 1);
    check_int("pwrite wrote at its offset", (pread(fd, buf, 2, 0), buf[1]), 'P');
    check_int("pwrite kept the size", (fstat(fd, &st), st.st_size), 67);
    check_int("still appending", fcntl(fd, F_GETFL) & O_APPEND, O_APPEND);
    check_int("fcntl setfl nonblock", fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    check_int("fcntl getfl nonblock", fcntl(fd, F_GETFL) & (O_NONBLOCK | O_APPEND), O_NONBLOCK);

    int fd2 = open("/sandbox/f.txt", O_RDONLY);
    check_int("open read-only", fd2 >= 0, 1);
    check_err("write to read-only", write(fd2, "x", 1), EBADF);
    check_int("fd_renumber", __wasi_fd_renumber(fd, fd2), 0);
    check_err("renumbered fd is closed", close(fd), EBADF);
    check_int("close", close(fd2), 0);
    check_err("close twice", close(fd2), EBADF);
    check_err("read bad fd", read(fd2, buf, 1), EBADF);

    check_err("open missing", open("/sandbox/missing", O_RDONLY), ENOENT);
    check_err("open O_DIRECTORY on a file", open("/sandbox/f.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
    check_err("open trailing slash on a file", open("/sandbox/f.txt/", O_RDONLY), ENOTDIR);
    check_err("open escaping", open("/sandbox/../etc/passwd", O_RDONLY), ENOTCAPABLE);
    check_err("open not UTF-8", open("/sandbox/bad\xff", O_CREAT | O_WRONLY, 0644), EILSEQ);
    int t = open("/sandbox/f.txt", O_WRONLY | O_TRUNC);
    check_int("open trunc", (fstat(t, &st), st.st_size), 0);
    close(t);

    check_int("mkdir", mkdir("/sandbox/d", 0755), 0);
    check_err("mkdir exists", mkdir("/sandbox/d", 0755), EEXIST);
    check_err("mkdir missing parent", mkdir("/sandbox/x/y", 0755), ENOENT);
    check_int("open in subdir", close(open("/sandbox/d/inner", O_CREAT | O_WRONLY, 0644)), 0);
    check_err("rmdir not empty", rmdir("/sandbox/d"), ENOTEMPTY);
    check_err("rmdir a file", rmdir("/sandbox/f.txt"), ENOTDIR);
    check_err("unlink a dir", unlink("/sandbox/d"), EISDIR);
    check_int("stat dir", (stat("/sandbox/d", &st), S_ISDIR(st.st_mode)), 1);
    check_err("stat missing", stat("/sandbox/missing", &st), ENOENT);

    check_int("symlink", symlink("f.txt", "/sandbox/sym"), 0);
    check_err("symlink exists", symlink("f.txt", "/sandbox/sym"), EEXIST);
    check_int("lstat symlink", (lstat("/sandbox/sym", &st), S_ISLNK(st.st_mode)), 1);
    check_int("stat through symlink", (stat("/sandbox/sym", &st), S_ISREG(st.st_mode)), 1);
    memset(buf, 0, sizeof buf);
    check_int("readlink", readlink("/sandbox/sym", buf, sizeof buf), 5);
    check_str("readlink data", buf, "f.txt");
    memset(buf, 0, sizeof buf);
    check_int("readlink truncates", readlink("/sandbox/sym", buf, 2), 2);
    check_str("readlink truncated data", buf, "f.");
    check_err("readlink a file", readlink("/sandbox/f.txt", buf, sizeof buf), EINVAL);
    check_err("open symlink nofollow", open("/sandbox/sym", O_RDONLY | O_NOFOLLOW), ELOOP);
    struct timespec lt[2] = {{3000, 0}, {4000, 0}};
    check_int("utimensat nofollow", utimensat(AT_FDCWD, "/sandbox/sym", lt, AT_SYMLINK_NOFOLLOW), 0);
    check_int("symlink mtime", (lstat("/sandbox/sym", &st), st.st_mtim.tv_sec), 4000);
    check_int("utimensat", utimensat(AT_FDCWD, "/sandbox/f.txt", lt, 0), 0);
    check_int("file mtime", (stat("/sandbox/f.txt", &st), st.st_mtim.tv_sec), 4000);

    check_int("link", link("/sandbox/f.txt", "/sandbox/hard"), 0);
    check_int("nlink", (stat("/sandbox/f.txt", &st), st.st_nlink), 2);
    check_err("link exists", link("/sandbox/f.txt", "/sandbox/hard"), EEXIST);
    check_int("rename", rename("/sandbox/hard", "/sandbox/d/moved"), 0);
    check_err("rename missing", rename("/sandbox/hard", "/sandbox/x"), ENOENT);
    check_err("rename file onto dir", rename("/sandbox/f.txt", "/sandbox/d"), EISDIR);
    check_int("unlink", unlink("/sandbox/d/moved"), 0);
    check_int("unlink inner", unlink("/sandbox/d/inner"), 0);
    check_int("rmdir", rmdir("/sandbox/d"), 0);

    DIR *dir = opendir("/sandbox");
    check_int("opendir", dir != NULL, 1);
    int seen = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (!strcmp(e->d_name, "f.txt") && e->d_type == DT_REG) seen |= 1;
        if (!strcmp(e->d_name, "sym") && e->d_type == DT_LNK) seen |= 2;
        if (!strcmp(e->d_name, ".") && e->d_type == DT_DIR) seen |= 4;
        if (!strcmp(e->d_name, "..")) seen |= 8;
        if (!strcmp(e->d_name, "d")) seen |= 16;
    }
    if (dir) closedir(dir);
    check_int("readdir entries", seen, 15);
    check_err("opendir a file", opendir("/sandbox/f.txt") ? 0 : -1, ENOTDIR);

    /* The read-only preopen at /ro holds data.txt: reading works, nothing changes it. */
    char data[16] = {0};
    int r = open("/ro/data.txt", O_RDONLY);
    check_int("ro read", read(r, data, sizeof data - 1), 5);
    check_str("ro data", data, "data\n");
    close(r);
    /* wasi-libc asks only for the rights the directory passes on, so the open succeeds
     * without write rights and the write fails as on any read-only descriptor. */
    int w = open("/ro/data.txt", O_WRONLY);
    check_int("ro open for writing", w >= 0, 1);
    check_err("ro write", write(w, "x", 1), EBADF);
    check_err("ro ftruncate", ftruncate(w, 0), ENOTCAPABLE);
    close(w);
    check_err("ro open trunc", open("/ro/data.txt", O_WRONLY | O_TRUNC), ENOTCAPABLE);
    check_err("ro open creat", open("/ro/new", O_WRONLY | O_CREAT, 0644), ENOTCAPABLE);
    check_err("ro mkdir", mkdir("/ro/d", 0755), ENOTCAPABLE);
    check_err("ro unlink", unlink("/ro/data.txt"), ENOTCAPABLE);
    check_err("ro rename out", rename("/ro/data.txt", "/sandbox/stolen"), ENOTCAPABLE);
    check_err("ro symlink", symlink("data.txt", "/ro/s"), ENOTCAPABLE);
    check_err("ro utimensat", utimensat(AT_FDCWD, "/ro/data.txt", lt, 0), ENOTCAPABLE);

    printf("done\n");
    return fails ? 1 : 0;
}
