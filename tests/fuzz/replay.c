/* Replays saved inputs through a fuzz harness's entry point, without libFuzzer: each argument
 * is a file, or a directory whose files are replayed in name order. Linked with each harness in
 * the normal build, it is the fuzz_regressions test: every input that once broke a loader stays
 * in tests/data/fuzz/<harness>/ and must keep loading (or failing) cleanly. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t size = 0, capacity = 1 << 16;
    unsigned char *data = malloc(capacity);
    size_t got;
    while (data && (got = fread(data + size, 1, capacity - size, f)) > 0) {
        size += got;
        if (size == capacity) {
            unsigned char *bigger = realloc(data, capacity * 2);
            if (!bigger) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            capacity *= 2;
        }
    }
    const int failed = ferror(f) || !data;
    fclose(f);
    if (failed) {
        free(data);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 1;
    }
    printf("replay: %s (%zu bytes)\n", path, size);
    fflush(stdout);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_hidden(const struct dirent *e) {
    return e->d_name[0] != '.';
}

int main(int argc, char **argv) {
    int failures = 0, replayed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            failures++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            failures += replay_file(argv[i]);
            replayed++;
            continue;
        }
        struct dirent **entries;
        const int n = scandir(argv[i], &entries, skip_hidden, by_name);
        if (n < 0) {
            fprintf(stderr, "replay: cannot list %s\n", argv[i]);
            failures++;
            continue;
        }
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], entries[k]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                failures += replay_file(path);
                replayed++;
            }
            free(entries[k]);
        }
        free(entries);
    }
    printf("replay: %d inputs, %d unreadable\n", replayed, failures);
    return failures != 0;
}
