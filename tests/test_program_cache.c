/* The on-disk cache of compiled programs: SHA-256 against the standard's vectors, the entry
 * reader on every kind of bad entry, the cache directory's resolution, and contexts on the
 * default device that write entries, load them in a later context (no source build), rebuild
 * silently over bad ones, stay off when told, and run without a usable directory. Every test
 * points SVERTKA_CACHE_DIR (or HOME) at a fresh directory of its own: none touches the user's
 * cache. */
#include "cl/binary_cache.h"
#include "cl/program.h"
#include "core/cache_dir.h"
#include "core/sha256.h"
#include "test_support.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SVERTKA_SOURCE_DIR
#error "SVERTKA_SOURCE_DIR must name the source tree"
#endif

enum { HEX_KEY = 2 * SV_BINARY_CACHE_KEY_SIZE, PATH_SIZE = 512 };

static void hex_of(const uint8_t *bytes, size_t n, char *out) {
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

/* ------------------------------------------------------------------------------------------ */
/* files and directories */

/* snprintf for paths: fails the test rather than truncate. */
static void format_path(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void format_path(char *out, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < size, "a path longer than %zu bytes", size);
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    const long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *data = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[PATH_SIZE];
            format_path(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* A fresh directory under /tmp; the caller removes it with remove_tree. */
static void make_temp_dir(char *out, size_t size) {
    snprintf(out, size, "/tmp/svertka-cache-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(out));
}

/* The entries of a cache directory, in name order: every file must be named by a 64-digit hex
 * key (so a temporary file left behind fails the test). Returns their number (0 when the
 * directory does not exist); names receives up to `capacity` of them. */
static int list_entries(const char *dir, char names[][HEX_KEY + 1], int capacity) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        ck_assert_msg(strlen(e->d_name) == HEX_KEY &&
                          strspn(e->d_name, "0123456789abcdef") == HEX_KEY,
                      "%s/%s is not a cache entry (a temporary file left behind?)", dir, e->d_name);
        if (count < capacity)
            memcpy(names[count], e->d_name, HEX_KEY + 1);
        count++;
    }
    closedir(d);
    for (int i = 1; i < count && i < capacity; i++) /* insertion sort: a handful of names */
        for (int k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
            char t[HEX_KEY + 1];
            memcpy(t, names[k], sizeof t);
            memcpy(names[k], names[k - 1], sizeof t);
            memcpy(names[k - 1], t, sizeof t);
        }
    return count;
}

static void key_of_name(const char *name, uint8_t key[SV_BINARY_CACHE_KEY_SIZE]) {
    for (int i = 0; i < SV_BINARY_CACHE_KEY_SIZE; i++) {
        unsigned byte;
        ck_assert_int_eq(sscanf(name + 2 * i, "%2x", &byte), 1);
        key[i] = (uint8_t)byte;
    }
}

/* Fails unless the file is a valid entry for the key its name spells. */
static void assert_valid_entry(const char *dir, const char *name) {
    char path[PATH_SIZE];
    format_path(path, sizeof path, "%s/%s", dir, name);
    uint8_t key[SV_BINARY_CACHE_KEY_SIZE];
    key_of_name(name, key);
    size_t size;
    uint8_t *data = read_file(path, &size);
    const uint8_t *binary;
    size_t binary_size;
    const sv_cache_entry_verdict v = sv_binary_cache_parse(data, size, key, &binary, &binary_size);
    free(data);
    ck_assert_msg(v == SV_ENTRY_VALID, "%s: verdict %d, not a valid entry", path, (int)v);
}

/* ------------------------------------------------------------------------------------------ */
/* SHA-256 and the entry format */

static void assert_digest(const uint8_t digest[SV_SHA256_SIZE], const char *expected,
                          const char *what) {
    char hex[2 * SV_SHA256_SIZE + 1];
    hex_of(digest, SV_SHA256_SIZE, hex);
    ck_assert_msg(strcmp(hex, expected) == 0, "SHA-256 of %s: %s, expected %s", what, hex,
                  expected);
}

/* FIPS 180-4's examples (one block, two blocks with the padding spilling into the second) and a
 * million 'a's fed in uneven pieces, so that updates straddle block boundaries. */
START_TEST(test_sha256_vectors) {
    uint8_t d[SV_SHA256_SIZE];
    sv_sha256_digest("", 0, d);
    assert_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "''");
    sv_sha256_digest("abc", 3, d);
    assert_digest(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sv_sha256_digest(two, strlen(two), d);
    assert_digest(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                  "the 448-bit message");
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    sv_sha256 h;
    sv_sha256_init(&h);
    size_t left = 1000000, piece = 1;
    while (left > 0) {
        const size_t n = piece < left ? piece : left;
        sv_sha256_update(&h, chunk, n);
        left -= n;
        piece = piece % 991 + 7; /* 7 to 997 bytes */
    }
    sv_sha256_final(&h, d);
    assert_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                  "a million 'a's");
}
END_TEST

/* Field boundaries are part of the key: moving a byte from one field to the next changes it. */
START_TEST(test_key_fields) {
    uint8_t a[SV_BINARY_CACHE_KEY_SIZE], b[SV_BINARY_CACHE_KEY_SIZE], c[SV_BINARY_CACHE_KEY_SIZE];
    const char *ab_c[] = {"ab", "c"}, *a_bc[] = {"a", "bc"};
    sv_binary_cache_key(ab_c, 2, a);
    sv_binary_cache_key(a_bc, 2, b);
    sv_binary_cache_key(ab_c, 2, c);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    ck_assert(memcmp(a, c, sizeof a) == 0);
}
END_TEST

enum { SAMPLE_BINARY = 300 };

/* A valid entry for key (all bytes `key_byte`) holding SAMPLE_BINARY bytes; returns its size. */
static size_t sample_entry(uint8_t key_byte, uint8_t *entry,
                           uint8_t key[SV_BINARY_CACHE_KEY_SIZE]) {
    memset(key, key_byte, SV_BINARY_CACHE_KEY_SIZE);
    uint8_t *binary = entry + SV_BINARY_CACHE_HEADER_SIZE;
    for (int i = 0; i < SAMPLE_BINARY; i++)
        binary[i] = (uint8_t)(i * 37 + 11);
    sv_binary_cache_header(key, binary, SAMPLE_BINARY, entry);
    return SV_BINARY_CACHE_HEADER_SIZE + SAMPLE_BINARY;
}

static sv_cache_entry_verdict parse(const uint8_t *data, size_t size, const uint8_t *key) {
    const uint8_t *binary = NULL;
    size_t binary_size = 7;
    const sv_cache_entry_verdict v = sv_binary_cache_parse(data, size, key, &binary, &binary_size);
    if (v == SV_ENTRY_VALID)
        ck_assert(binary == data + SV_BINARY_CACHE_HEADER_SIZE &&
                  binary_size == size - SV_BINARY_CACHE_HEADER_SIZE);
    else
        ck_assert_msg(binary == NULL && binary_size == 7, "a refused entry wrote its outputs");
    return v;
}

/* Each way an entry can be bad, with the verdict it must get: every prefix, every single flipped
 * byte (by the field it lands in), a trailing byte, another key, lengths of 0 and over the limit
 * (refused from the header alone, whatever follows), another format version. */
START_TEST(test_entry_parse) {
    uint8_t entry[SV_BINARY_CACHE_HEADER_SIZE + SAMPLE_BINARY + 1], key[SV_BINARY_CACHE_KEY_SIZE];
    const size_t size = sample_entry(0x5a, entry, key);
    ck_assert_int_eq(parse(entry, size, key), SV_ENTRY_VALID);
    for (size_t n = 0; n < size; n++)
        ck_assert_msg(parse(entry, n, key) == SV_ENTRY_TRUNCATED, "the first %zu bytes", n);
    entry[size] = 0;
    ck_assert_int_eq(parse(entry, size + 1, key), SV_ENTRY_TRAILING_BYTES);

    for (size_t i = 0; i < size; i++) {
        uint8_t bad[sizeof entry];
        memcpy(bad, entry, size);
        bad[i] ^= 0x40;
        const sv_cache_entry_verdict v = parse(bad, size, key);
        sv_cache_entry_verdict expected;
        if (i < 8)
            expected = SV_ENTRY_BAD_MAGIC;
        else if (i < 12)
            expected = SV_ENTRY_BAD_FORMAT;
        else if (i < 44)
            expected = SV_ENTRY_KEY_MISMATCH;
        else if (i < 52) { /* the length: now past the limit, or past the data */
            uint64_t length = 0;
            for (int b = 0; b < 8; b++)
                length |= (uint64_t)bad[44 + b] << (8 * b);
            expected =
                length > SV_BINARY_CACHE_MAX_BINARY ? SV_ENTRY_BAD_LENGTH : SV_ENTRY_TRUNCATED;
        } else
            expected = SV_ENTRY_BAD_CHECKSUM;
        ck_assert_msg(v == expected, "byte %zu flipped: verdict %d, expected %d", i, (int)v,
                      (int)expected);
    }

    uint8_t other[SV_BINARY_CACHE_KEY_SIZE];
    memcpy(other, key, sizeof other);
    other[31] ^= 1;
    ck_assert_int_eq(parse(entry, size, other), SV_ENTRY_KEY_MISMATCH);

    const uint64_t lengths[] = {0, SV_BINARY_CACHE_MAX_BINARY + 1, UINT64_MAX};
    for (int k = 0; k < TEST_COUNT_OF(lengths); k++) {
        uint8_t bad[sizeof entry];
        memcpy(bad, entry, size);
        for (int b = 0; b < 8; b++)
            bad[44 + b] = (uint8_t)(lengths[k] >> (8 * b));
        ck_assert_int_eq(parse(bad, size, key), SV_ENTRY_BAD_LENGTH);
    }
    uint8_t bad[sizeof entry];
    memcpy(bad, entry, size);
    bad[8] = SV_BINARY_CACHE_FORMAT + 1;
    ck_assert_int_eq(parse(bad, size, key), SV_ENTRY_BAD_FORMAT);
}
END_TEST

/* The fuzz seeds in tests/data/fuzz/program_cache were written by Python's hashlib and struct
 * from the layout in cl/binary_cache.h: the reader agrees with that independent writing of the
 * format, and each seed is what its name says. The key is the one each header names. */
START_TEST(test_committed_seeds) {
    static const struct {
        const char *name;
        sv_cache_entry_verdict verdict;
    } seeds[] = {{"valid", SV_ENTRY_VALID},
                 {"valid_one_byte", SV_ENTRY_VALID},
                 {"bad_checksum", SV_ENTRY_BAD_CHECKSUM},
                 {"bad_magic", SV_ENTRY_BAD_MAGIC},
                 {"format_2", SV_ENTRY_BAD_FORMAT},
                 {"length_2e40", SV_ENTRY_BAD_LENGTH},
                 {"length_zero", SV_ENTRY_BAD_LENGTH},
                 {"trailing_byte", SV_ENTRY_TRAILING_BYTES},
                 {"truncated_binary", SV_ENTRY_TRUNCATED}};
    for (int i = 0; i < TEST_COUNT_OF(seeds); i++) {
        char path[PATH_SIZE];
        format_path(path, sizeof path, "%s/tests/data/fuzz/program_cache/%s", SVERTKA_SOURCE_DIR,
                    seeds[i].name);
        size_t size;
        uint8_t *data = read_file(path, &size);
        ck_assert_uint_ge(size, 12 + SV_BINARY_CACHE_KEY_SIZE);
        const sv_cache_entry_verdict v = parse(data, size, data + 12);
        free(data);
        ck_assert_msg(v == seeds[i].verdict, "%s: verdict %d, expected %d", seeds[i].name, (int)v,
                      (int)seeds[i].verdict);
    }
}
END_TEST

/* store writes what load reads back; load refuses a bad file, a directory and a missing one. */
START_TEST(test_store_and_load) {
    char dir[PATH_SIZE];
    make_temp_dir(dir, sizeof dir);
    uint8_t entry[SV_BINARY_CACHE_HEADER_SIZE + SAMPLE_BINARY], key[SV_BINARY_CACHE_KEY_SIZE];
    sample_entry(0x21, entry, key);
    const uint8_t *sample = entry + SV_BINARY_CACHE_HEADER_SIZE;
    uint8_t *binary = NULL;
    size_t binary_size = 0;
    ck_assert_int_eq(sv_binary_cache_load(dir, key, &binary, &binary_size), 0);
    ck_assert_int_eq(sv_binary_cache_store(dir, key, sample, SAMPLE_BINARY), 1);
    char names[2][HEX_KEY + 1];
    ck_assert_int_eq(list_entries(dir, names, 2), 1);
    ck_assert_int_eq(sv_binary_cache_load(dir, key, &binary, &binary_size), 1);
    ck_assert_uint_eq(binary_size, SAMPLE_BINARY);
    ck_assert(memcmp(binary, sample, SAMPLE_BINARY) == 0);
    free(binary);

    char path[PATH_SIZE];
    format_path(path, sizeof path, "%s/%s", dir, names[0]);
    size_t size;
    uint8_t *data = read_file(path, &size);
    ck_assert(size == sizeof entry && memcmp(data, entry, size) == 0);
    data[SV_BINARY_CACHE_HEADER_SIZE + 5] ^= 1;
    write_file(path, data, size);
    free(data);
    binary = NULL;
    ck_assert_int_eq(sv_binary_cache_load(dir, key, &binary, &binary_size), 0);
    ck_assert_ptr_null(binary);

    /* an entry name taken by a directory: nothing to read, and nothing can be written there */
    unlink(path);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(sv_binary_cache_load(dir, key, &binary, &binary_size), 0);
    ck_assert_int_eq(sv_binary_cache_store(dir, key, sample, SAMPLE_BINARY), 0);
    ck_assert_int_eq(list_entries(dir, names, 2), 1); /* no temporary file left */
    ck_assert_int_eq(sv_binary_cache_store(dir, key, sample, 0), 0);
    remove_tree(dir);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* the cache directory */

static void assert_private_dir(const char *path) {
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "%s is not a directory", path);
    ck_assert_msg((st.st_mode & 0777) == 0700, "%s has mode %03o, expected 0700", path,
                  (unsigned)(st.st_mode & 0777));
}

static void assert_cache_dir(const char *expected) {
    char out[PATH_SIZE];
    ck_assert_int_eq(sv_cache_dir("programs", 1, out, sizeof out), 1);
    ck_assert_str_eq(out, expected);
    assert_private_dir(out);
}

/* SVERTKA_CACHE_DIR, else an absolute XDG_CACHE_HOME, else HOME; missing directories created
 * private; nothing when no variable is set, the path does not fit or cannot be created. */
START_TEST(test_cache_dir) {
    char tmp[PATH_SIZE], expected[PATH_SIZE], var[PATH_SIZE], out[PATH_SIZE];
    make_temp_dir(tmp, sizeof tmp);
    unsetenv("SVERTKA_CACHE_DIR");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", tmp, 1);
    format_path(expected, sizeof expected, "%s/.cache/svertka/programs", tmp);
    assert_cache_dir(expected);
    format_path(var, sizeof var, "%s/.cache", tmp);
    assert_private_dir(var);
    format_path(var, sizeof var, "%s/.cache/svertka", tmp);
    assert_private_dir(var);

    setenv("XDG_CACHE_HOME", "relative/ignored", 1);
    assert_cache_dir(expected);
    format_path(var, sizeof var, "%s/xdg", tmp);
    setenv("XDG_CACHE_HOME", var, 1);
    format_path(expected, sizeof expected, "%s/xdg/svertka/programs", tmp);
    assert_cache_dir(expected);

    format_path(var, sizeof var, "%s/own/deeper", tmp);
    setenv("SVERTKA_CACHE_DIR", var, 1);
    format_path(expected, sizeof expected, "%s/own/deeper/programs", tmp);
    assert_cache_dir(expected);
    ck_assert_int_eq(sv_cache_dir("programs", 1, out, strlen(expected)), 0); /* one byte short */

    /* a regular file where a directory should be: the last component, or one above it */
    format_path(var, sizeof var, "%s/own/deeper/other", tmp);
    write_file(var, "x", 1);
    ck_assert_int_eq(sv_cache_dir("other", 1, out, sizeof out), 0);
    format_path(var, sizeof var, "%s/a-file", tmp);
    write_file(var, "x", 1);
    setenv("SVERTKA_CACHE_DIR", var, 1);
    ck_assert_int_eq(sv_cache_dir("programs", 1, out, sizeof out), 0);
    format_path(var, sizeof var, "%s/a-file/below", tmp);
    setenv("SVERTKA_CACHE_DIR", var, 1);
    ck_assert_int_eq(sv_cache_dir("programs", 1, out, sizeof out), 0);

    unsetenv("SVERTKA_CACHE_DIR");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    ck_assert_int_eq(sv_cache_dir("programs", 1, out, sizeof out), 0);
    remove_tree(tmp);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* contexts on the default device */

/* A convolution with bias and ReLU, then 2x2 max pooling: two programs. The inputs are small
 * integers, so every sum is exact in fp32 and the device must match the reference bit for bit. */
enum { C_IN = 3, C_OUT = 4, SIDE = 9, POOLED = SIDE / 2 };
typedef struct results {
    float conv[C_OUT * SIDE * SIDE];
    float pool[C_OUT * POOLED * POOLED];
} results;

static void compute(sv_context *ctx, results *r) {
    const int64_t x_dims[4] = {1, C_IN, SIDE, SIDE}, w_dims[4] = {C_OUT, C_IN, 3, 3},
                  b_dims[1] = {C_OUT}, y_dims[4] = {1, C_OUT, SIDE, SIDE},
                  p_dims[4] = {1, C_OUT, POOLED, POOLED};
    float x[C_IN * SIDE * SIDE], w[C_OUT * C_IN * 9], b[C_OUT];
    test_rng rng = test_rng_for(0);
    for (int i = 0; i < TEST_COUNT_OF(x); i++)
        x[i] = (float)test_int(&rng, -3, 3);
    for (int i = 0; i < TEST_COUNT_OF(w); i++)
        w[i] = (float)test_int(&rng, -2, 2);
    for (int i = 0; i < TEST_COUNT_OF(b); i++)
        b[i] = (float)test_int(&rng, -4, 4);
    sv_conv_params cp = sv_conv_params_default(2);
    cp.pad_begin[0] = cp.pad_begin[1] = cp.pad_end[0] = cp.pad_end[1] = 1;
    cp.activation.kind = SV_ACT_RELU;
    const sv_pool_params pp = sv_pool_params_default(2, SV_POOL_MAX);
    sv_tensor *xt = test_tensor_from(ctx, x, 4, x_dims), *wt = test_tensor_from(ctx, w, 4, w_dims),
              *bt = test_tensor_from(ctx, b, 1, b_dims), *yt = test_tensor_poisoned(ctx, 4, y_dims),
              *pt = test_tensor_poisoned(ctx, 4, p_dims);
    TEST_ASSERT_STATUS(sv_conv(ctx, &cp, xt, wt, bt, yt), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_pool(ctx, &pp, yt, pt, NULL), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_tensor_download(yt, r->conv, TEST_COUNT_OF(r->conv)), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_tensor_download(pt, r->pool, TEST_COUNT_OF(r->pool)), SV_OK, ctx);
    sv_tensor_release(xt);
    sv_tensor_release(wt);
    sv_tensor_release(bt);
    sv_tensor_release(yt);
    sv_tensor_release(pt);
}

typedef struct run_counts {
    size_t source_builds, binary_loads;
} run_counts;

/* One context on the default device, as a new process would have it: computes, checks the
 * results against the reference path exactly, and returns how its programs were built. */
static run_counts run_context(void) {
    results ref, dev;
    sv_context *ctx = test_context("ref");
    compute(ctx, &ref);
    sv_context_release(ctx);
    ctx = test_context(NULL);
    compute(ctx, &dev);
    run_counts c;
    sv_program_build_counts(ctx, &c.source_builds, &c.binary_loads);
    sv_context_release(ctx);
    test_assert_equal(dev.conv, ref.conv, TEST_COUNT_OF(ref.conv), "convolution");
    test_assert_equal(dev.pool, ref.pool, TEST_COUNT_OF(ref.pool), "max pooling");
    return c;
}

static void assert_counts(run_counts c, size_t source_builds, size_t binary_loads,
                          const char *when) {
    ck_assert_msg(c.source_builds == source_builds && c.binary_loads == binary_loads,
                  "%s: %zu source builds and %zu binary loads, expected %zu and %zu", when,
                  c.source_builds, c.binary_loads, source_builds, binary_loads);
}

/* Whether the default device is an OpenCL one: without one there are no programs to cache. */
static int have_opencl(void) {
    sv_context *ctx = test_context(NULL);
    const int cl = sv_context_device(ctx)->kind != SV_DEVICE_REF;
    sv_context_release(ctx);
    if (!cl)
        printf("no OpenCL device: the program cache is not exercised\n");
    return cl;
}

/* A fresh cache directory for this test: SVERTKA_CACHE_DIR=root; entries go in dir. */
static void fresh_cache(char *root, char *dir, size_t size) {
    make_temp_dir(root, size);
    format_path(dir, size, "%s/programs", root);
    setenv("SVERTKA_CACHE_DIR", root, 1);
    unsetenv("SVERTKA_CACHE");
    unsetenv("SVERTKA_KERNELS_DIR");
}

enum { PROGRAMS = 2, MAX_NAMES = 8 };

/* The first context compiles both programs and writes an entry for each; the second loads both
 * and compiles nothing; the results are the same to the bit. */
START_TEST(test_second_context_loads) {
    if (!have_opencl())
        return;
    char root[PATH_SIZE], dir[PATH_SIZE], names[MAX_NAMES][HEX_KEY + 1];
    fresh_cache(root, dir, sizeof root);
    assert_counts(run_context(), PROGRAMS, 0, "first context");
    ck_assert_int_eq(list_entries(dir, names, MAX_NAMES), PROGRAMS);
    for (int i = 0; i < PROGRAMS; i++)
        assert_valid_entry(dir, names[i]);
    assert_private_dir(dir);
    assert_counts(run_context(), 0, PROGRAMS, "second context");
    ck_assert_int_eq(list_entries(dir, names, MAX_NAMES), PROGRAMS);
    remove_tree(root);
}
END_TEST

/* Ways an entry goes bad on disk; the next context must ignore it, compile from source, get the
 * right results and write a good entry in its place. */
typedef enum corruption {
    FLIP_BINARY_BYTE,
    FLIP_MAGIC,
    TRUNCATE_HALF,
    TRUNCATE_HEADER,
    EMPTY_FILE,
    TRAILING_BYTES,
    ANOTHER_KEY,  /* the entry of the other program under this one's name */
    HUGE_LENGTH,  /* the header announces 2^40 bytes */
    NOT_A_BINARY, /* a well-formed entry whose binary the driver refuses */
    CORRUPTIONS
} corruption;

static const char *const corruption_names[CORRUPTIONS] = {"a flipped byte in the binary",
                                                          "a flipped magic byte",
                                                          "cut in half",
                                                          "cut inside the header",
                                                          "empty",
                                                          "a trailing byte",
                                                          "another program's entry",
                                                          "a length of 2^40 bytes",
                                                          "a binary the driver refuses"};

static void corrupt(const char *dir, char names[][HEX_KEY + 1], int count, corruption how) {
    uint8_t *original[MAX_NAMES];
    size_t sizes[MAX_NAMES];
    char path[PATH_SIZE];
    for (int i = 0; i < count; i++) {
        format_path(path, sizeof path, "%s/%s", dir, names[i]);
        original[i] = read_file(path, &sizes[i]);
    }
    for (int i = 0; i < count; i++) {
        format_path(path, sizeof path, "%s/%s", dir, names[i]);
        uint8_t *e = original[i];
        size_t n = sizes[i];
        uint8_t key[SV_BINARY_CACHE_KEY_SIZE];
        key_of_name(names[i], key);
        switch (how) {
        case FLIP_BINARY_BYTE:
            e[SV_BINARY_CACHE_HEADER_SIZE + (n - SV_BINARY_CACHE_HEADER_SIZE) / 2] ^= 0x10;
            break;
        case FLIP_MAGIC: e[0] ^= 0x01; break;
        case TRUNCATE_HALF: n /= 2; break;
        case TRUNCATE_HEADER: n = SV_BINARY_CACHE_HEADER_SIZE - 1; break;
        case EMPTY_FILE: n = 0; break;
        case TRAILING_BYTES: e[n++] = 0; break; /* read_file leaves room for one more */
        case ANOTHER_KEY:
            e = original[(i + 1) % count];
            n = sizes[(i + 1) % count];
            break;
        case HUGE_LENGTH:
            for (int b = 0; b < 8; b++)
                e[44 + b] = b == 5 ? 1 : 0;
            break;
        case NOT_A_BINARY: {
            static const char text[] = "not a program binary, though its entry is well formed";
            uint8_t fake[SV_BINARY_CACHE_HEADER_SIZE + sizeof text];
            memcpy(fake + SV_BINARY_CACHE_HEADER_SIZE, text, sizeof text);
            sv_binary_cache_header(key, fake + SV_BINARY_CACHE_HEADER_SIZE, sizeof text, fake);
            write_file(path, fake, sizeof fake);
            continue;
        }
        case CORRUPTIONS: break;
        }
        write_file(path, e, n);
    }
    for (int i = 0; i < count; i++)
        free(original[i]);
}

START_TEST(test_bad_entries_rebuilt) {
    if (!have_opencl())
        return;
    const corruption how = (corruption)_i;
    char root[PATH_SIZE], dir[PATH_SIZE], names[MAX_NAMES][HEX_KEY + 1];
    fresh_cache(root, dir, sizeof root);
    assert_counts(run_context(), PROGRAMS, 0, "filling the cache");
    ck_assert_int_eq(list_entries(dir, names, MAX_NAMES), PROGRAMS);
    corrupt(dir, names, PROGRAMS, how);
    char when[256];
    snprintf(when, sizeof when, "every entry %s", corruption_names[how]);
    assert_counts(run_context(), PROGRAMS, 0, when);
    /* rewritten: valid again, under the same names, and loaded by the next context */
    char again[MAX_NAMES][HEX_KEY + 1];
    ck_assert_int_eq(list_entries(dir, again, MAX_NAMES), PROGRAMS);
    for (int i = 0; i < PROGRAMS; i++) {
        ck_assert_str_eq(again[i], names[i]);
        assert_valid_entry(dir, again[i]);
    }
    snprintf(when, sizeof when, "after rewriting the entries that were %s", corruption_names[how]);
    assert_counts(run_context(), 0, PROGRAMS, when);
    remove_tree(root);
}
END_TEST

/* SVERTKA_CACHE=off (or 0) neither writes (not even the directory) nor reads; other values
 * leave the cache on. */
START_TEST(test_cache_off) {
    if (!have_opencl())
        return;
    char root[PATH_SIZE], dir[PATH_SIZE], names[MAX_NAMES][HEX_KEY + 1];
    fresh_cache(root, dir, sizeof root);
    setenv("SVERTKA_CACHE", _i ? "0" : "off", 1);
    assert_counts(run_context(), PROGRAMS, 0, "cache off, empty");
    ck_assert_msg(access(dir, F_OK) != 0, "%s was created with the cache off", dir);

    setenv("SVERTKA_CACHE", "on", 1);
    assert_counts(run_context(), PROGRAMS, 0, "cache on, empty");
    ck_assert_int_eq(list_entries(dir, names, MAX_NAMES), PROGRAMS);
    setenv("SVERTKA_CACHE", _i ? "0" : "off", 1);
    assert_counts(run_context(), PROGRAMS, 0, "cache off, full");
    remove_tree(root);
}
END_TEST

/* A cache directory that cannot be created, and entries that cannot be written: the runs
 * succeed, compiling from source, and leave nothing behind. */
START_TEST(test_unusable_directory) {
    if (!have_opencl())
        return;
    char root[PATH_SIZE], dir[PATH_SIZE], path[PATH_SIZE], names[MAX_NAMES][HEX_KEY + 1];
    fresh_cache(root, dir, sizeof root);
    format_path(path, sizeof path, "%s/a-file", root);
    write_file(path, "x", 1);
    format_path(path, sizeof path, "%s/a-file/cache", root);
    setenv("SVERTKA_CACHE_DIR", path, 1);
    assert_counts(run_context(), PROGRAMS, 0, "the cache directory under a regular file");

    /* every entry's name taken by a directory: entries can be neither read nor written */
    setenv("SVERTKA_CACHE_DIR", root, 1);
    assert_counts(run_context(), PROGRAMS, 0, "filling the cache");
    ck_assert_int_eq(list_entries(dir, names, MAX_NAMES), PROGRAMS);
    for (int i = 0; i < PROGRAMS; i++) {
        format_path(path, sizeof path, "%s/%s", dir, names[i]);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(mkdir(path, 0700), 0);
    }
    assert_counts(run_context(), PROGRAMS, 0, "entries taken by directories");
    ck_assert_int_eq(list_entries(dir, names, MAX_NAMES), PROGRAMS);

    /* a directory without write permission (root writes anyway: only checked for other users) */
    if (geteuid() != 0) {
        remove_tree(dir);
        ck_assert_int_eq(mkdir(dir, 0500), 0);
        assert_counts(run_context(), PROGRAMS, 0, "a read-only cache directory");
        ck_assert_int_eq(list_entries(dir, names, MAX_NAMES), 0);
        chmod(dir, 0700);
    }
    remove_tree(root);
}
END_TEST

static void copy_file(const char *from, const char *to) {
    size_t size;
    uint8_t *data = read_file(from, &size);
    write_file(to, data, size);
    free(data);
}

/* The key covers the text compiled, not where it came from: the same sources from
 * SVERTKA_KERNELS_DIR load the embedded sources' entries; an edited source misses, so only its
 * program is compiled again. */
START_TEST(test_source_text_in_key) {
    if (!have_opencl())
        return;
    char root[PATH_SIZE], dir[PATH_SIZE], kernels[PATH_SIZE], from[PATH_SIZE], to[PATH_SIZE],
        names[MAX_NAMES][HEX_KEY + 1];
    fresh_cache(root, dir, sizeof root);
    assert_counts(run_context(), PROGRAMS, 0, "embedded sources");
    format_path(kernels, sizeof kernels, "%s/kernels", root);
    ck_assert_int_eq(mkdir(kernels, 0700), 0);
    const char *files[] = {"common.clh", "conv.cl", "pool.cl"};
    for (int i = 0; i < TEST_COUNT_OF(files); i++) {
        format_path(from, sizeof from, "%s/kernels_cl/%s", SVERTKA_SOURCE_DIR, files[i]);
        format_path(to, sizeof to, "%s/%s", kernels, files[i]);
        copy_file(from, to);
    }
    setenv("SVERTKA_KERNELS_DIR", kernels, 1);
    assert_counts(run_context(), 0, PROGRAMS, "the same sources from SVERTKA_KERNELS_DIR");

    format_path(to, sizeof to, "%s/conv.cl", kernels);
    FILE *f = fopen(to, "a");
    ck_assert_ptr_nonnull(f);
    fputs("/* edited */\n", f);
    fclose(f);
    assert_counts(run_context(), 1, PROGRAMS - 1, "conv.cl edited");
    ck_assert_int_eq(list_entries(dir, names, MAX_NAMES), PROGRAMS + 1);
    unsetenv("SVERTKA_KERNELS_DIR");
    remove_tree(root);
}
END_TEST

static Suite *program_cache_suite(void) {
    Suite *s = suite_create("program_cache");
    TCase *tc = test_add_case(s, "format", 60);
    tcase_add_test(tc, test_sha256_vectors);
    tcase_add_test(tc, test_key_fields);
    tcase_add_test(tc, test_entry_parse);
    tcase_add_test(tc, test_committed_seeds);
    tcase_add_test(tc, test_store_and_load);
    tcase_add_test(tc, test_cache_dir);
    tc = test_add_case(s, "contexts", 300);
    tcase_add_test(tc, test_second_context_loads);
    tcase_add_loop_test(tc, test_bad_entries_rebuilt, 0, CORRUPTIONS);
    tcase_add_loop_test(tc, test_cache_off, 0, 2);
    tcase_add_test(tc, test_unusable_directory);
    tcase_add_test(tc, test_source_text_in_key);
    return s;
}

TEST_MAIN(program_cache_suite)
