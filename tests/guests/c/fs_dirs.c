/* Directory listings through wasi-libc: scandir, opendir/readdir + fstatat, and nftw, in
 * the preopen root /sandbox and two levels below it. The host lays out
 *   /sandbox: a.txt, link -> a.txt, d1/;  d1: b.txt, d2/;  d1/d2: c.txt, e/
 * Prints each listing (`scandir DIR: names...`, `readdir DIR: ...`, `nftw PATH TYPE
 * LEVEL`) for the test to compare, `ok <name>` or `FAIL <name>: ...` per check, then
 * `done`. Then removes a tree of its own with scandir, as programs clean up temp dirs. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fails;

static void check(const char *what, const char *dir, const char *name, int good, const char *detail) {
    if (good) {
        printf("ok %s %s/%s\n", what, dir, name);
    } else {
        printf("FAIL %s %s/%s: %s (errno %d: %s)\n", what, dir, name, detail, errno, strerror(errno));
        fails++;
    }
}

/* The inode `stat` gives for PATH (not following a last symlink), or 0. */
static ino_t ino_of(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_ino : 0;
}

/* The inode a listing of DIR must show for NAME; PARENT is what `..` is (the preopen
 * root lists itself there: its parent is outside the sandbox). */
static ino_t expected_ino(const char *dir, const char *parent, const char *name) {
    char path[512];
    if (strcmp(name, ".") == 0) return ino_of(dir);
    if (strcmp(name, "..") == 0) return ino_of(parent);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return ino_of(path);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_scandir(const char *dir, const char *parent) {
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    check("scandir", dir, "", n >= 0, "scandir failed");
    if (n < 0) return;
    printf("scandir %s:", dir);
    for (int i = 0; i < n; i++) printf(" %s", list[i]->d_name);
    printf("\n");
    for (int i = 0; i < n; i++) {
        ino_t want = expected_ino(dir, parent, list[i]->d_name);
        check("scandir d_ino", dir, list[i]->d_name, list[i]->d_ino != 0 && list[i]->d_ino == want,
              "d_ino is 0 or not the entry's inode");
        free(list[i]);
    }
    free(list);
}

static void list_readdir(const char *dir, const char *parent) {
    DIR *d = opendir(dir);
    check("opendir", dir, "", d != NULL, "opendir failed");
    if (!d) return;
    char *names[64];
    int n = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL && n < 64) {
        names[n++] = strdup(e->d_name);
        ino_t want = expected_ino(dir, parent, e->d_name);
        check("readdir d_ino", dir, e->d_name, e->d_ino != 0 && e->d_ino == want,
              "d_ino is 0 or not the entry's inode");
        struct stat st;
        int r = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW);
        if (strcmp(e->d_name, "..") == 0) {
            /* A descriptor reaches only below itself: `..` is refused, not an error of
             * the listing. */
            check("fstatat .. refused", dir, e->d_name, r == -1 && errno == ENOTCAPABLE,
                  "fstatat(..) was not ENOTCAPABLE");
        } else {
            check("fstatat", dir, e->d_name, r == 0 && st.st_ino == e->d_ino,
                  "fstatat failed or shows another inode");
            int type_ok = (e->d_type == DT_DIR && S_ISDIR(st.st_mode)) ||
                          (e->d_type == DT_REG && S_ISREG(st.st_mode)) ||
                          (e->d_type == DT_LNK && S_ISLNK(st.st_mode));
            check("d_type", dir, e->d_name, r == 0 && type_ok, "d_type does not match st_mode");
        }
        errno = 0;
    }
    check("readdir ends cleanly", dir, "", errno == 0, "readdir failed");
    closedir(d);
    qsort(names, n, sizeof names[0], by_name);
    printf("readdir %s:", dir);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static char *walked[64];
static int walked_n;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    const char *kind = type == FTW_F ? "F" : type == FTW_D ? "D" : type == FTW_SL ? "SL"
                     : type == FTW_DP ? "DP" : "?";
    char line[600];
    snprintf(line, sizeof line, "nftw %s %s %d", path, kind, ftw->level);
    if (walked_n < 64) walked[walked_n++] = strdup(line);
    check("nftw st_ino", path, "", st->st_ino != 0 && st->st_ino == ino_of(path), "st_ino is 0 or wrong");
    return 0;
}

/* Removes DIR and everything below it, listing each level with scandir. */
static int remove_tree(const char *dir) {
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    if (n < 0) return -1;
    int r = 0;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && r == 0) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            r = list[i]->d_type == DT_DIR ? remove_tree(path) : unlink(path);
        }
        free(list[i]);
    }
    free(list);
    return r == 0 ? rmdir(dir) : r;
}

int main(void) {
    const char *dirs[3][2] = {
        {"/sandbox", "/sandbox"},
        {"/sandbox/d1", "/sandbox"},
        {"/sandbox/d1/d2", "/sandbox/d1"},
    };
    for (int i = 0; i < 3; i++) {
        list_scandir(dirs[i][0], dirs[i][1]);
        list_readdir(dirs[i][0], dirs[i][1]);
    }

    check("nftw", "/sandbox", "", nftw("/sandbox", visit, 8, FTW_PHYS) == 0, "nftw failed");
    qsort(walked, walked_n, sizeof walked[0], by_name);
    for (int i = 0; i < walked_n; i++) {
        printf("%s\n", walked[i]);
        free(walked[i]);
    }

    /* A temp tree five levels deep, removed with scandir. */
    char path[512] = "/sandbox/tmp";
    int made = mkdir(path, 0755) == 0;
    for (int level = 0; level < 5 && made; level++) {
        char file[600];
        snprintf(file, sizeof file, "%s/file%d", path, level);
        int fd = open(file, O_CREAT | O_WRONLY, 0644);
        made = fd >= 0 && close(fd) == 0;
        strcat(path, "/sub");
        made = made && mkdir(path, 0755) == 0;
    }
    check("temp tree made", "/sandbox", "tmp", made, "mkdir or open failed");
    check("temp tree removed", "/sandbox", "tmp", remove_tree("/sandbox/tmp") == 0, "remove failed");
    check("temp tree gone", "/sandbox", "tmp", ino_of("/sandbox/tmp") == 0 && errno == ENOENT,
          "still there");

    printf("done\n");
    return fails != 0;
}
