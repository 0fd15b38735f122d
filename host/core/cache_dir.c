/* The per-user cache directory: environment variables in order of precedence, then mkdir -p
 * when the caller is about to write. */
#include "core/cache_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Creates every missing directory of path (which it modifies and restores in passing). */
static int make_directories(char *path) {
    for (char *p = path + 1;; p++) {
        const char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        const int made = mkdir(path, 0700) == 0 || errno == EEXIST;
        *p = c;
        if (!made)
            return 0;
        if (c == '\0')
            break;
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sv_cache_dir(const char *sub, int create, char *out, size_t size) {
    const char *own = getenv("SVERTKA_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    int n;
    if (own && *own)
        n = snprintf(out, size, "%s/%s", own, sub);
    else if (xdg && xdg[0] == '/')
        n = snprintf(out, size, "%s/svertka/%s", xdg, sub);
    else if (home && *home)
        n = snprintf(out, size, "%s/.cache/svertka/%s", home, sub);
    else
        return 0;
    return n > 0 && (size_t)n < size && (!create || make_directories(out));
}
