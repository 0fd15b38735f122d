/* The tuning database and sv_model_tune: the file format (round trip, foreign and damaged
 * files), tuning a model (every candidate checked and timed, the winners stored and used by the
 * next context), wrong candidates rejected, the time budget, and the switch that ignores it. */
#include "io/io.h"
#include "ops/conv_algorithm.h"
#include "ops/conv_tuning.h"
#include "test_support.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODELS SVERTKA_SOURCE_DIR "/tests/data/models/"

static const char *const valid_header = "svertka-tuning 2\ndevice fuzz device\ndriver 1.0\n";

static sv_tuning_db test_db(void) {
    sv_device_info device;
    memset(&device, 0, sizeof device);
    snprintf(device.name, sizeof device.name, "fuzz device");
    snprintf(device.driver_version, sizeof device.driver_version, "1.0");
    sv_tuning_db db;
    sv_tuning_db_init(&db, &device);
    return db;
}

/* Parses header + library line + body with the test device. */
static long parse_with_header(sv_tuning_db *db, const char *body) {
    char text[4096];
    snprintf(text, sizeof text, "%slibrary %d.%d.%d\n%s", valid_header, SV_VERSION_MAJOR,
             SV_VERSION_MINOR, SV_VERSION_PATCH, body);
    return sv_tuning_db_parse(db, text, strlen(text));
}

START_TEST(test_database_round_trip) {
    sv_tuning_db db = test_db();
    ck_assert_int_eq(parse_with_header(&db,
                                       "# a comment\n"
                                       "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 "
                                       "cpu-blocked 0 0.5\n"
                                       "conv 1 4 16 1 100 32 1 98 1 3 1 1 1 1 0 0 2 4 0 direct "
                                       "0 1.25\n"),
                     2);
    const sv_conv_tuning_key key = {{2, 1, 3, 32, 32, 8, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0}};
    const sv_tuning_entry *e = sv_tuning_db_find(&db, &key);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->choice.algorithm, SV_CONV_CPU_BLOCKED);
    ck_assert(e->ms == 0.5);
    /* a later entry for the same shape replaces the earlier */
    ck_assert_int_eq(sv_tuning_db_put(&db, &key, (sv_conv_choice){SV_CONV_DIRECT, 0}, 0.25), SV_OK);
    ck_assert_int_eq(db.count, 2);
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    ck_assert_int_eq(sv_tuning_db_write(&db, out), 0);
    fclose(out);
    sv_tuning_db again = test_db();
    ck_assert_int_eq(sv_tuning_db_parse(&again, text, length), 2);
    ck_assert_int_eq(sv_tuning_db_find(&again, &key)->choice.algorithm, SV_CONV_DIRECT);
    free(text);
    sv_tuning_db_free(&again);
    sv_tuning_db_free(&db);
}
END_TEST

/* Each line breaks one rule of an entry: skipped, the rest of the file still read. */
static const char *const bad_lines[] = {
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 winograd-9x9 0 0.5", /* unknown algorithm */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 direct 7 0.5",       /* no such variant */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 direct -1 0.5",      /* negative variant */
    "conv 2 -1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 direct 0 0.5",      /* negative batch */
    "conv 3 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 direct 0 0.5",       /* 3-D */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 9 0 direct 0 0.5",       /* padding mode */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 -1 1 1 0 0 direct 0 0.5",      /* negative pad */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 2 direct 0 0.5", /* pooling neither 0 nor 1 */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 direct 0 nan", /* NaN time */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 direct 0 -2",  /* negative time */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 direct 0 0.5 extra",   /* trailing field */
    "conv 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 direct 0 0.5",           /* a field short */
    "conv 2 99999999999 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 0 direct 0 1", /* int overflow */
    "conv2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 direct 0 0.5",            /* no separator */
    "pool 2 1 3 32 32 8 32 32 3 3 1 1 1 1 1 1 1 0 direct 0 0.5",           /* unknown record */
};

START_TEST(test_database_skips_bad_lines) {
    const char *good = "conv 2 1 8 16 16 16 16 16 3 3 1 1 1 1 1 1 1 0 0 direct 0 0.5\n";
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, "%s\n%s", bad_lines[i], good);
        sv_tuning_db db = test_db();
        ck_assert_msg(parse_with_header(&db, body) == 1 && db.count == 1, "line %zu: %s", i,
                      bad_lines[i]);
        sv_tuning_db_free(&db);
    }
    /* an overlong line is one bad line */
    char *body = malloc(3 * SV_TUNING_MAX_LINE);
    memset(body, '7', 2 * SV_TUNING_MAX_LINE);
    snprintf(body + 2 * SV_TUNING_MAX_LINE, SV_TUNING_MAX_LINE, "\n%s", good);
    sv_tuning_db db = test_db();
    ck_assert_int_eq(parse_with_header(&db, body), 1);
    sv_tuning_db_free(&db);
    free(body);
}
END_TEST

/* Another device's, driver's or library version's file, or a damaged header: nothing read. */
START_TEST(test_database_ignores_foreign_files) {
    char library[64];
    snprintf(library, sizeof library, "library %d.%d.%d", SV_VERSION_MAJOR, SV_VERSION_MINOR,
             SV_VERSION_PATCH);
    /* each: the header's first lines, then what follows "library <this version>" */
    const struct {
        const char *head, *after_library;
    } files[] = {
        {"svertka-tuning 2\ndevice other\ndriver 1.0\n", "\n"},
        {"svertka-tuning 2\ndevice fuzz device\ndriver 2.0\n", "\n"},
        {"svertka-tuning 2\ndevice fuzz device\ndriver 1.0\n", "9\n"},
        {"svertka-tuning 1\ndevice fuzz device\ndriver 1.0\n",
         "\n"}, /* the format before pooling */
        {"device fuzz device\ndriver 1.0\n", "\n"},
    };
    for (size_t i = 0; i <= sizeof files / sizeof files[0]; i++) {
        char text[512];
        if (i < sizeof files / sizeof files[0])
            snprintf(text, sizeof text, "%s%s%s", files[i].head, library, files[i].after_library);
        else /* the header cut short */
            snprintf(text, sizeof text, "svertka-tuning 2\ndevice fuzz device\n");
        strcat(text, "conv 2 1 8 16 16 16 16 16 3 3 1 1 1 1 1 1 1 0 0 direct 0 0.5\n");
        sv_tuning_db db = test_db();
        ck_assert_msg(sv_tuning_db_parse(&db, text, strlen(text)) == -1 && db.count == 0,
                      "file %zu was read", i);
        sv_tuning_db_free(&db);
    }
}
END_TEST

/* ---- tuning a model on the default OpenCL device ---- */

typedef struct tally {
    int records, chosen, rejected, skipped, chosen_per_layer[64];
    char chosen_name[64][32];
} tally;

static void count_record(void *user, const sv_tune_record *r) {
    tally *t = user;
    t->records++;
    t->rejected += strncmp(r->outcome, "rejected", 8) == 0;
    t->skipped += strncmp(r->outcome, "skipped", 7) == 0;
    if (r->chosen) {
        ck_assert_msg(strcmp(r->outcome, "ok") == 0 && r->ms >= 0 && r->error >= 0,
                      "layer %d: the winner %s/%d has outcome '%s'", r->layer, r->algorithm,
                      r->variant, r->outcome);
        t->chosen++;
        t->chosen_per_layer[r->layer]++;
        snprintf(t->chosen_name[r->layer], sizeof t->chosen_name[r->layer], "%s", r->algorithm);
    }
}

/* A fresh cache directory for the test (never the user's). */
static void use_fresh_cache(char *dir) {
    strcpy(dir, "/tmp/svertka-tuning-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("SVERTKA_CACHE_DIR", dir, 1);
    unsetenv("SVERTKA_TUNING");
    unsetenv("SVERTKA_TUNING_FILE");
}

static void remove_cache(const char *dir, sv_context *ctx) {
    char path[4096], command[4200];
    if (sv_tuning_database_path(ctx, path, sizeof path) == SV_OK)
        unlink(path);
    snprintf(command, sizeof command, "%s/tuning", dir);
    rmdir(command);
    rmdir(dir);
}

/* segnet's output for its committed input, compared with PyTorch's like test_models does. */
static void assert_segnet_output(sv_model *m, sv_context *ctx) {
    sv_io_array x, expected;
    sv_message msg;
    ck_assert_int_eq(sv_npy_read_file(MODELS "segnet_input.npy", &x, &msg), SV_OK);
    ck_assert_int_eq(sv_npy_read_file(MODELS "segnet_output.npy", &expected, &msg), SV_OK);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, x.dims[0]), SV_OK, ctx);
    float *y = malloc((size_t)expected.count * sizeof *y);
    const float *in[1] = {x.data};
    float *out[1] = {y};
    TEST_ASSERT_STATUS(sv_model_run(m, in, out), SV_OK, ctx);
    double scale = 0.0;
    for (int64_t i = 0; i < expected.count; i++)
        scale = fmax(scale, fabs((double)expected.data[i]));
    test_assert_close(y, expected.data, (size_t)expected.count, 1e-4 * scale, 0.0, "segnet");
    free(y);
    sv_io_array_free(&x);
    sv_io_array_free(&expected);
}

static int conv_layers(sv_model *m, int *layers) {
    int n = 0;
    for (int k = 0; k < sv_model_layer_count(m); k++) {
        sv_layer_info l;
        sv_model_layer(m, k, &l);
        if (strcmp(l.op, "Conv") == 0 || strcmp(l.op, "Conv+Relu") == 0)
            layers[n++] = k;
    }
    return n;
}

/* Tuning picks one checked, timed winner per layer, stores it, and a new context plans with it
 * (and gives the model's known output). */
START_TEST(test_tune_stores_and_uses_winners) {
    char dir[64];
    use_fresh_cache(dir);
    sv_context *ctx = test_context(NULL);
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    tally t = {0};
    const sv_tune_options options = {60.0, 3, count_record, &t};
    TEST_ASSERT_STATUS(sv_model_tune(m, &options), SV_OK, ctx);
    int layers[64];
    const int n = conv_layers(m, layers);
    ck_assert_int_ge(n, 3);
    ck_assert_int_eq(t.chosen, n);
    int candidates = 0; /* every variant of every algorithm, once per distinct layer */
    for (int a = SV_CONV_AUTO + 1; a < SV_CONV_ALGORITHM_END; a++)
        candidates += sv_conv_impl_of((sv_conv_algorithm)a)->variants;
    ck_assert_int_eq(t.records, n * candidates);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(t.chosen_per_layer[layers[i]], 1);
        sv_layer_info l;
        sv_model_layer(m, layers[i], &l);
        ck_assert_str_eq(l.algorithm, t.chosen_name[layers[i]]);
    }
    assert_segnet_output(m, ctx);
    sv_model_release(m);

    /* the next context reads the database: rewrite every winner to direct and see it planned */
    char path[4096];
    TEST_ASSERT_STATUS(sv_tuning_database_path(ctx, path, sizeof path), SV_OK, ctx);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char text[8192] = "", line[512];
    while (fgets(line, sizeof line, f)) {
        char *name = strstr(line, "cpu-blocked");
        if (name)
            sprintf(name, "direct 0 1\n");
        strcat(text, line);
    }
    fclose(f);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    sv_context *next = test_context(NULL);
    TEST_ASSERT_STATUS(sv_model_load(next, MODELS "segnet.onnx", NULL, &m), SV_OK, next);
    for (int i = 0; i < n; i++) {
        sv_layer_info l;
        sv_model_layer(m, layers[i], &l);
        ck_assert_str_eq(l.algorithm, "direct");
    }
    assert_segnet_output(m, next);
    sv_model_release(m);
    sv_context_release(next);

    /* switched off, the database is ignored: the heuristic's CPU kernel where it has lanes */
    setenv("SVERTKA_TUNING", "off", 1);
    next = test_context(NULL);
    TEST_ASSERT_STATUS(sv_model_load(next, MODELS "segnet.onnx", NULL, &m), SV_OK, next);
    if (sv_context_device(next)->kind == SV_DEVICE_CPU) {
        sv_layer_info l;
        sv_model_layer(m, layers[0], &l);
        ck_assert_str_eq(l.algorithm, "cpu-blocked");
    }
    sv_model_release(m);
    sv_context_release(next);
    unsetenv("SVERTKA_TUNING");
    remove_cache(dir, ctx);
    sv_context_release(ctx);
}
END_TEST

/* Copies kernels_cl into dir with the CPU kernel's output scaled by 1.01: a wrong candidate. */
static void write_broken_kernels(const char *dir) {
    const char *files[] = {"common.clh", "conv.cl", "conv_cpu.cl"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char from[512], to[512];
        snprintf(from, sizeof from, SVERTKA_SOURCE_DIR "/kernels_cl/%s", files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        FILE *in = fopen(from, "r"), *out = fopen(to, "w");
        ck_assert(in && out);
        char line[1024];
        int mutated = 0;
        while (fgets(line, sizeof line, in)) {
            char *at = strstr(line, "lanes[0][p][o] + b");
            if (at) {
                fprintf(out, "%.*slanes[0][p][o] * 1.01f%s", (int)(at - line), line, at + 14);
                mutated = 1;
            } else {
                fputs(line, out);
            }
        }
        ck_assert(i != 2 || mutated);
        fclose(in);
        fclose(out);
    }
}

START_TEST(test_tune_rejects_wrong_candidates) {
    char dir[64], kernels[] = "/tmp/svertka-broken-XXXXXX";
    use_fresh_cache(dir);
    ck_assert_ptr_nonnull(mkdtemp(kernels));
    write_broken_kernels(kernels);
    setenv("SVERTKA_KERNELS_DIR", kernels, 1);
    sv_context *ctx = test_context(NULL);
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    tally t = {0};
    const sv_tune_options options = {60.0, 2, count_record, &t};
    TEST_ASSERT_STATUS(sv_model_tune(m, &options), SV_OK, ctx);
    int layers[64];
    const int n = conv_layers(m, layers);
    /* every register block of the CPU kernel, on every layer */
    ck_assert_int_eq(t.rejected, n * sv_conv_impl_of(SV_CONV_CPU_BLOCKED)->variants);
    for (int i = 0; i < n; i++)
        ck_assert_str_ne(t.chosen_name[layers[i]], "cpu-blocked");
    unsetenv("SVERTKA_KERNELS_DIR");
    sv_model_release(m);
    remove_cache(dir, ctx);
    sv_context_release(ctx);
    const char *files[] = {"common.clh", "conv.cl", "conv_cpu.cl"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", kernels, files[i]);
        unlink(path);
    }
    rmdir(kernels);
}
END_TEST

/* A spent budget skips every candidate: nothing stored, the model keeps its plan and runs. */
START_TEST(test_tune_within_budget) {
    char dir[64];
    use_fresh_cache(dir);
    sv_context *ctx = test_context(NULL);
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    tally t = {0};
    const sv_tune_options options = {1e-9, 1, count_record, &t};
    TEST_ASSERT_STATUS(sv_model_tune(m, &options), SV_OK, ctx);
    ck_assert_int_eq(t.chosen, 0);
    ck_assert_int_gt(t.skipped, 0);
    char path[4096];
    TEST_ASSERT_STATUS(sv_tuning_database_path(ctx, path, sizeof path), SV_OK, ctx);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    while (fgets(line, sizeof line, f))
        ck_assert_msg(strncmp(line, "conv", 4) != 0, "stored: %s", line);
    fclose(f);
    assert_segnet_output(m, ctx);
    sv_model_release(m);
    remove_cache(dir, ctx);
    sv_context_release(ctx);
}
END_TEST

/* Planning looks for the database without making its directory: only tuning writes one. */
START_TEST(test_reading_creates_no_directory) {
    char dir[64], tuning[96];
    use_fresh_cache(dir);
    sv_context *ctx = test_context(NULL);
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    assert_segnet_output(m, ctx);
    snprintf(tuning, sizeof tuning, "%s/tuning", dir);
    struct stat st;
    ck_assert_msg(stat(tuning, &st) != 0 && errno == ENOENT, "%s was created", tuning);
    sv_model_release(m);
    remove_cache(dir, ctx);
    sv_context_release(ctx);
}
END_TEST

START_TEST(test_tune_refused_on_reference) {
    sv_context *ctx = test_context("ref");
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_model_tune(m, NULL), SV_UNSUPPORTED, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "nothing to tune"));
    ck_assert_int_eq(sv_model_tune(NULL, NULL), SV_INVALID_ARGUMENT);
    sv_model_release(m);
    sv_context_release(ctx);
}
END_TEST

static Suite *tuning_suite(void) {
    Suite *s = suite_create("tuning");
    TCase *file = test_add_case(s, "database file", 60);
    tcase_add_test(file, test_database_round_trip);
    tcase_add_test(file, test_database_skips_bad_lines);
    tcase_add_test(file, test_database_ignores_foreign_files);
    TCase *tune = test_add_case(s, "tuning a model", 300);
    tcase_add_test(tune, test_tune_stores_and_uses_winners);
    tcase_add_test(tune, test_tune_rejects_wrong_candidates);
    tcase_add_test(tune, test_tune_within_budget);
    tcase_add_test(tune, test_tune_refused_on_reference);
    tcase_add_test(tune, test_reading_creates_no_directory);
    return s;
}

TEST_MAIN(tuning_suite)
