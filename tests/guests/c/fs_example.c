/* The original lucet-wasi example's shape: run with `--dir .:. -- file.txt`, it reads the
 * file, writes an upper-case copy (then appends to it), and lists the current directory. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    char buf[4096];
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) { perror("read"); return 1; }
    close(fd);
    buf[n] = 0;
    printf("read %zd bytes: %s", n, buf);

    FILE *out = fopen("copy.txt", "w");
    if (!out) { perror("fopen"); return 1; }
    for (ssize_t i = 0; i < n; i++) fputc(toupper((unsigned char)buf[i]), out);
    fclose(out);
    out = fopen("copy.txt", "a");
    if (!out) { perror("fopen append"); return 1; }
    fputs("appended\n", out);
    fclose(out);
    printf("wrote copy.txt\n");

    DIR *dir = opendir(".");
    if (!dir) { perror("opendir"); return 1; }
    char *names[64];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && count < 64) {
        names[count++] = strdup(e->d_name);
        /* `..` is outside the preopen: its type comes from the listing, not stat. */
        if (strcmp(e->d_name, "..") == 0) continue;
        struct stat st;
        if (stat(e->d_name, &st) != 0) { perror("stat"); return 1; }
        if (S_ISDIR(st.st_mode) != (e->d_type == DT_DIR)) { fprintf(stderr, "type\n"); return 1; }
    }
    closedir(dir);
    qsort(names, count, sizeof names[0], by_name);
    for (int i = 0; i < count; i++) {
        printf("%s\n", names[i]);
    }
    return 0;
}
