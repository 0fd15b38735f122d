/* The tuning database file: parsing (untrusted text), lookup, writing, and where it lives. */
#include "core/cache_dir.h"
#include "ops/conv_tuning.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

sv_conv_tuning_key sv_conv_tuning_key_of(const sv_conv_params *p, const sv_conv_geometry *g) {
    const sv_conv_tuning_key key = {{p->spatial_dims, g->n, g->c, g->h, g->w, g->k, g->oh, g->ow,
                                     g->kh, g->kw, g->sh, g->sw, g->dh, g->dw, g->ph, g->pw,
                                     g->groups, (int)p->pad_mode, p->max_pool_2x2}};
    return key;
}

static void library_version(char *buf, size_t size) {
    snprintf(buf, size, "%d.%d.%d", SV_VERSION_MAJOR, SV_VERSION_MINOR, SV_VERSION_PATCH);
}

void sv_tuning_db_init(sv_tuning_db *db, const sv_device_info *device) {
    memset(db, 0, sizeof *db);
    snprintf(db->device, sizeof db->device, "%s", device->name);
    snprintf(db->driver, sizeof db->driver, "%s", device->driver_version);
    library_version(db->library, sizeof db->library);
}

void sv_tuning_db_free(sv_tuning_db *db) {
    free(db->entries);
    db->entries = NULL;
    db->count = db->capacity = 0;
}

void sv_tuning_db_release(sv_tuning_db *db) {
    if (db)
        sv_tuning_db_free(db);
    free(db);
}

static size_t index_of(const sv_tuning_db *db, const sv_conv_tuning_key *key) {
    size_t i = 0;
    while (i < db->count && memcmp(&db->entries[i].key, key, sizeof *key) != 0)
        i++;
    return i;
}

const sv_tuning_entry *sv_tuning_db_find(const sv_tuning_db *db, const sv_conv_tuning_key *key) {
    const size_t i = index_of(db, key);
    return i < db->count ? &db->entries[i] : NULL;
}

sv_status sv_tuning_db_put(sv_tuning_db *db, const sv_conv_tuning_key *key, sv_conv_choice choice,
                           double ms) {
    const size_t i = index_of(db, key);
    sv_tuning_entry *e = i < db->count ? &db->entries[i] : NULL;
    if (!e) {
        if (db->count == db->capacity) {
            const size_t capacity = db->capacity ? 2 * db->capacity : 16;
            sv_tuning_entry *grown = realloc(db->entries, capacity * sizeof *grown);
            if (!grown)
                return SV_OUT_OF_MEMORY;
            db->entries = grown;
            db->capacity = capacity;
        }
        e = &db->entries[db->count++];
        e->key = *key;
    }
    e->choice = choice;
    e->ms = ms;
    return SV_OK;
}

/* The next line of text (without its newline) into line; 0 at the end or when the line is
 * longer than the buffer (the rest of that line is skipped and the line reported empty). */
static int next_line(const char **at, const char *end, char *line, size_t size) {
    if (*at >= end)
        return 0;
    const char *nl = memchr(*at, '\n', (size_t)(end - *at));
    const char *stop = nl ? nl : end;
    const size_t n = (size_t)(stop - *at);
    if (n < size) {
        memcpy(line, *at, n);
        line[n] = '\0';
        if (memchr(line, '\0', n)) /* an embedded NUL: not a text line */
            line[0] = '\0';
    } else {
        line[0] = '\0';
    }
    *at = nl ? nl + 1 : end;
    return 1;
}

/* "word rest-of-line" with word == expected; writes rest. */
static int header_field(const char *line, const char *expected, const char **rest) {
    const size_t n = strlen(expected);
    if (strncmp(line, expected, n) != 0 || line[n] != ' ')
        return 0;
    *rest = line + n + 1;
    return 1;
}

static int parse_int(const char **s, int *out) {
    char *end;
    errno = 0;
    const long v = strtol(*s, &end, 10);
    if (end == *s || errno || v < INT_MIN || v > INT_MAX || (*end != ' ' && *end != '\0'))
        return 0;
    *out = (int)v;
    *s = end;
    return 1;
}

/* A key the convolution validation could have produced: every extent positive, pads and the
 * padding mode non-negative, pooling 0 or 1 (nothing here is trusted to index anything, but a key
 * that no convolution has is a sign of a damaged file). */
static int plausible_key(const sv_conv_tuning_key *k) {
    if (k->v[0] != 1 && k->v[0] != 2)
        return 0;
    for (int i = 1; i < 14; i++)
        if (k->v[i] < 1)
            return 0;
    return k->v[14] >= 0 && k->v[15] >= 0 && k->v[16] >= 1 && k->v[17] >= SV_PAD_ZERO &&
           k->v[17] <= SV_PAD_CIRCULAR && (k->v[18] == 0 || k->v[18] == 1);
}

static int parse_entry(const char *line, sv_tuning_entry *e) {
    const char *s;
    if (!header_field(line, "conv", &s))
        return 0;
    for (int i = 0; i < SV_TUNING_KEY_FIELDS; i++)
        if (!parse_int(&s, &e->key.v[i]))
            return 0;
    char name[64];
    int variant, used = 0;
    double ms;
    if (sscanf(s, " %63s %d %lf%n", name, &variant, &ms, &used) != 3 || s[used] != '\0')
        return 0;
    e->choice.algorithm = SV_CONV_AUTO;
    for (int a = SV_CONV_AUTO + 1; a < SV_CONV_ALGORITHM_END; a++)
        if (strcmp(name, sv_conv_algorithm_name((sv_conv_algorithm)a)) == 0)
            e->choice.algorithm = (sv_conv_algorithm)a;
    const sv_conv_impl *impl = sv_conv_impl_of(e->choice.algorithm);
    if (!impl || variant < 0 || variant >= impl->variants || !(ms >= 0.0) ||
        !plausible_key(&e->key))
        return 0;
    e->choice.variant = variant;
    e->ms = ms;
    return 1;
}

long sv_tuning_db_parse(sv_tuning_db *db, const char *text, size_t size) {
    const char *at = text, *end = text + size;
    char line[SV_TUNING_MAX_LINE];
    const char *expected[4] = {SV_TUNING_FORMAT, db->device, db->driver, db->library};
    const char *fields[4] = {"svertka-tuning", "device", "driver", "library"};
    int field = 0;
    long added = 0;
    while (next_line(&at, end, line, sizeof line)) {
        if (line[0] == '#')
            continue;
        if (field < 4) {
            const char *rest;
            if (!header_field(line, fields[field], &rest) || strcmp(rest, expected[field]) != 0)
                return -1;
            field++;
            continue;
        }
        sv_tuning_entry e;
        if (parse_entry(line, &e) && sv_tuning_db_put(db, &e.key, e.choice, e.ms) == SV_OK)
            added++;
    }
    return field == 4 ? added : -1;
}

int sv_tuning_db_write(const sv_tuning_db *db, FILE *out) {
    fprintf(out, "# svertka tuning database: the fastest convolution algorithm per shape, measured "
                 "by svertka tune\n");
    fprintf(out, "svertka-tuning " SV_TUNING_FORMAT "\ndevice %s\ndriver %s\nlibrary %s\n",
            db->device, db->driver, db->library);
    for (size_t i = 0; i < db->count; i++) {
        const sv_tuning_entry *e = &db->entries[i];
        fprintf(out, "conv");
        for (int k = 0; k < SV_TUNING_KEY_FIELDS; k++)
            fprintf(out, " %d", e->key.v[k]);
        fprintf(out, " %s %d %.6g\n", sv_conv_algorithm_name(e->choice.algorithm),
                e->choice.variant, e->ms);
    }
    return ferror(out) ? -1 : 0;
}

/* FNV-1a, 64 bits: names the file; the header inside is what is checked. */
static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return (h ^ '\n') * UINT64_C(1099511628211);
}

int sv_tuning_db_path(const sv_device_info *device, int create, char *out, size_t size) {
    const char *file = getenv("SVERTKA_TUNING_FILE");
    if (file && *file) {
        const int n = snprintf(out, size, "%s", file);
        return n > 0 && (size_t)n < size;
    }
    char dir[4096], library[32];
    if (!sv_cache_dir("tuning", create, dir, sizeof dir))
        return 0;
    library_version(library, sizeof library);
    uint64_t h = UINT64_C(14695981039346656037);
    h = fnv1a(fnv1a(fnv1a(h, device->name), device->driver_version), library);
    const int n = snprintf(out, size, "%s/%016llx.txt", dir, (unsigned long long)h);
    return n > 0 && (size_t)n < size;
}

void sv_tuning_db_load(sv_tuning_db *db, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char *text = malloc(SV_TUNING_MAX_BYTES);
    const size_t size = text ? fread(text, 1, SV_TUNING_MAX_BYTES, f) : 0;
    /* a file that fills the buffer is larger than any database: ignored */
    if (text && size < SV_TUNING_MAX_BYTES && !ferror(f))
        sv_tuning_db_parse(db, text, size);
    free(text);
    fclose(f);
}

sv_status sv_tuning_db_save(const sv_tuning_db *db, const char *path, sv_message *err) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    const int fd = mkstemp(tmp);
    if (fd < 0)
        return sv_fail_message(err, SV_IO, "cannot create %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return sv_fail_message(err, SV_IO, "cannot write %s: %s", tmp, strerror(errno));
    }
    const int failed = sv_tuning_db_write(db, f) != 0;
    if (fclose(f) != 0 || failed || rename(tmp, path) != 0) {
        unlink(tmp);
        return sv_fail_message(err, SV_IO, "cannot write the tuning database %s", path);
    }
    return SV_OK;
}

int sv_tuning_enabled(void) {
    const char *mode = getenv("SVERTKA_TUNING");
    return !mode || (strcmp(mode, "off") != 0 && strcmp(mode, "0") != 0);
}

const sv_tuning_db *sv_context_tuning(sv_context *ctx) {
    if (ctx->tuning_loaded)
        return ctx->tuning;
    ctx->tuning_loaded = 1;
    if (sv_context_is_ref(ctx) || !sv_tuning_enabled())
        return NULL;
    char path[4096];
    sv_tuning_db *db = malloc(sizeof *db);
    if (!db || !sv_tuning_db_path(&ctx->device, 0, path, sizeof path)) {
        free(db);
        return NULL;
    }
    sv_tuning_db_init(db, &ctx->device);
    sv_tuning_db_load(db, path);
    ctx->tuning = db;
    return db;
}
