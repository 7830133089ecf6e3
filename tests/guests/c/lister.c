#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
// lister DIR N: makes N files in DIR (if not there), then lists DIR through 16 streams
// at once, a few entries each in turn, then each to its end.
int main(int argc, char **argv) {
    const char *d = argv[1];
    int n = atoi(argv[2]);
    char p[512];
    mkdir(d, 0755);
    snprintf(p, sizeof p, "%s/file-with-a-longish-name-%07d", d, n - 1);
    if (access(p, F_OK) != 0)
        for (int i = 0; i < n; i++) {
            snprintf(p, sizeof p, "%s/file-with-a-longish-name-%07d", d, i);
            close(open(p, O_CREAT | O_WRONLY, 0644));
        }
    DIR *ds[16];
    long total = 0;
    for (int k = 0; k < 16; k++) {
        ds[k] = opendir(d);
        for (int j = 0; j < 10 && readdir(ds[k]); j++) total++;
    }
    for (int k = 0; k < 16; k++) {
        while (readdir(ds[k])) total++;
        closedir(ds[k]);
    }
    printf("%ld entries listed\n", total);
    return 0;
}
