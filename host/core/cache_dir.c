/* The user's cache directory for what the library keeps between runs. */
#include "core/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p with mode 0700 (the cache holds nothing secret, but nothing for others either). */
static int make_dirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        const int ok = mkdir(path, 0700) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok)
            return 0;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

int sv_cache_dir(const char *sub, char *out, size_t size) {
    const char *dir = getenv("SVERTKA_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    int n;
    if (dir && *dir)
        n = snprintf(out, size, "%s/%s", dir, sub);
    else if (xdg && *xdg)
        n = snprintf(out, size, "%s/svertka/%s", xdg, sub);
    else if (home && *home)
        n = snprintf(out, size, "%s/.cache/svertka/%s", home, sub);
    else
        return 0;
    return n > 0 && (size_t)n < size && make_dirs(out);
}
