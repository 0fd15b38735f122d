/* Host I/O: .npy round trips and every header variant the reader accepts, files written by NumPy
 * itself, a table of malformed .npy inputs and the errors they must give, truncation and
 * corruption at every byte; images (PPM/PGM built here, PNGs built here with stored deflate
 * blocks, a zlib-compressed PNG and a JPEG committed under tests/data) against exact sample
 * values, hand-computed bilinear resizes and a table of bad images and options.
 *
 * The fixtures in tests/data were made once with NumPy 1.24 and PIL 9.4 (python3 is not needed
 * to run this suite):
 *   npy_f4_2x3.npy        np.save(f, np.arange(6, dtype='<f4').reshape(2, 3) * 0.5 - 1)
 *   npy_f8_fortran_v3.npy np.lib.format.write_array(f, np.asfortranarray([[i * 10 + j + 0.25
 *                         for j in range(4)] for i in range(3)]), version=(3, 0))
 *   npy_f4_be_v2.npy      write_array(f, (np.arange(8).reshape(2, 2, 2) - 3.5).astype('>f4'),
 *                         version=(2, 0))
 *   rgb_4x3.png           4 x 3 RGB, 8-bit, pixel (x, y) = png_fixture_pixel below, rows
 *                         filtered Sub, Up and Paeth, IDAT compressed by zlib.compress(raw, 9)
 *   solid_16x8.jpg        Image.new('RGB', (16, 8), (200, 120, 40)).save(f, quality=95) */
#include "test_support.h"

#include "../host/io/io.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct buffer {
    unsigned char *data;
    size_t size, capacity;
} buffer;

static void buf_put(buffer *b, const void *bytes, size_t n) {
    if (b->size + n > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 256;
        while (cap < b->size + n)
            cap *= 2;
        b->data = realloc(b->data, cap);
        ck_assert_ptr_nonnull(b->data);
        b->capacity = cap;
    }
    if (n)
        memcpy(b->data + b->size, bytes, n);
    b->size += n;
}

static void buf_byte(buffer *b, unsigned v) {
    const unsigned char c = (unsigned char)v;
    buf_put(b, &c, 1);
}

static void buf_str(buffer *b, const char *s) {
    buf_put(b, s, strlen(s));
}

/* Appends `width` bytes of `bits`, little- or big-endian. */
static void buf_uint(buffer *b, uint64_t bits, int width, int big_endian) {
    for (int k = 0; k < width; k++)
        buf_byte(b, (unsigned)(bits >> (8 * (big_endian ? width - 1 - k : k))) & 0xff);
}

static void buf_f4(buffer *b, float v, int big_endian) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    buf_uint(b, bits, 4, big_endian);
}

static void buf_f8(buffer *b, double v, int big_endian) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    buf_uint(b, bits, 8, big_endian);
}

/* A .npy preamble: magic, version, and the header length (the header's own length plus
 * `length_delta`), then the header text. */
static void npy_preamble(buffer *b, int major, int minor, const char *header, long length_delta) {
    buf_put(b, "\x93NUMPY", 6);
    buf_byte(b, (unsigned)major);
    buf_byte(b, (unsigned)minor);
    const uint64_t len = (uint64_t)((long)strlen(header) + length_delta);
    buf_uint(b, len, major == 1 ? 2 : 4, 0);
    buf_str(b, header);
}

static int same_bits(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static char *fixture_path(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/%s", SVERTKA_SOURCE_DIR, name);
    return path;
}

static buffer read_fixture(const char *name) {
    buffer b = {0};
    sv_message msg = {{0}};
    sv_status st = sv_io_read_file(fixture_path(name), 1 << 20, &b.data, &b.size, &msg);
    ck_assert_msg(st == SV_OK, "cannot read fixture %s: %s", name, msg.text);
    b.capacity = b.size;
    return b;
}

static char temp_dir[256];

static void make_temp_dir(void) {
    const char *base = getenv("TMPDIR");
    snprintf(temp_dir, sizeof temp_dir, "%s/svertka_io_XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(temp_dir));
}

/* Number of entries in the temporary directory, "." and ".." aside. */
static int temp_dir_entries(void) {
    DIR *d = opendir(temp_dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void remove_temp_dir(void) {
    DIR *d = opendir(temp_dir);
    if (!d)
        return;
    char path[512];
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", temp_dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(temp_dir);
}

static void write_bytes(const char *path, const void *bytes, size_t size) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (size)
        ck_assert_uint_eq(fwrite(bytes, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

/* A recognisable array that a failing call must leave alone. */
static sv_io_array untouched_array(void) {
    static float sentinel;
    sv_io_array a;
    memset(&a, 0, sizeof a);
    a.data = &sentinel;
    a.rank = -7;
    a.count = -7;
    return a;
}

static void assert_untouched(const sv_io_array *a, const char *what) {
    sv_io_array expected = untouched_array();
    ck_assert_msg(a->data == expected.data && a->rank == -7 && a->count == -7,
                  "%s: output written on failure", what);
}

/* ---- .npy: round trips -------------------------------------------------------------------- */

/* Loop index = rank 0..5: random dims 1..6 and random data sprinkled with the values a format
 * gets wrong (signed zero, infinities, NaN with a payload, subnormals, extremes); encode, write,
 * read back from memory and from the file, and compare every element bit for bit. */
START_TEST(test_npy_round_trip) {
    const int rank = _i;
    test_rng rng = test_rng_for((uint64_t)rank);
    int64_t dims[SV_MAX_RANK];
    int64_t count = 1;
    for (int i = 0; i < rank; i++) {
        dims[i] = test_int(&rng, 1, 6);
        count *= dims[i];
    }
    float *data = malloc((size_t)count * sizeof *data);
    ck_assert_ptr_nonnull(data);
    test_fill_uniform(&rng, data, (size_t)count, -1e3f, 1e3f);
    uint32_t nan_bits = 0x7fc01234u;
    float specials[8] = {-0.0f, INFINITY, -INFINITY, 0.0f, FLT_MIN / 8, -FLT_MAX, FLT_MAX, 0};
    memcpy(&specials[7], &nan_bits, sizeof nan_bits);
    for (int k = 0; k < 8 && k < count; k++)
        data[test_int(&rng, 0, (int)count - 1)] = specials[k];

    sv_message msg = {{0}};
    unsigned char *bytes = NULL;
    size_t size = 0;
    ck_assert_int_eq(sv_npy_encode(data, rank, rank ? dims : NULL, &bytes, &size, &msg), SV_OK);
    /* NumPy's layout: version 1.0, data at a multiple of 64 (128 for any shape of rank <= 5 with
     * small dims), the header ending in a newline */
    ck_assert_int_eq(bytes[6], 1);
    const size_t data_at = 10 + (size_t)(bytes[8] | bytes[9] << 8);
    ck_assert_uint_eq(data_at, 128);
    ck_assert_int_eq(bytes[data_at - 1], '\n');
    ck_assert_uint_eq(size, data_at + (size_t)count * 4);

    sv_io_array a = untouched_array();
    sv_status st = sv_npy_read_memory(bytes, size, &a, &msg);
    ck_assert_msg(st == SV_OK, "rank %d: %s", rank, msg.text);
    ck_assert_int_eq(a.rank, rank);
    ck_assert_int_eq(a.count, count);
    for (int i = 0; i < SV_MAX_RANK; i++)
        ck_assert_int_eq(a.dims[i], i < rank ? dims[i] : 1);
    for (int64_t i = 0; i < count; i++)
        ck_assert_msg(same_bits(a.data[i], data[i]), "rank %d, memory: element %lld differs", rank,
                      (long long)i);
    sv_io_array_free(&a);
    ck_assert_ptr_null(a.data);

    make_temp_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/x.npy", temp_dir);
    write_bytes(path, "old contents", 12); /* replaced whole, not overwritten in place */
    st = sv_npy_write_file(path, data, rank, dims, &msg);
    ck_assert_msg(st == SV_OK, "write: %s", msg.text);
    ck_assert_int_eq(temp_dir_entries(), 1); /* no temporary file left behind */
    buffer written = {0};
    ck_assert_int_eq(sv_io_read_file(path, 1 << 20, &written.data, &written.size, &msg), SV_OK);
    ck_assert_uint_eq(written.size, size);
    ck_assert_int_eq(memcmp(written.data, bytes, size), 0);
    a = untouched_array();
    st = sv_npy_read_file(path, &a, &msg);
    ck_assert_msg(st == SV_OK, "read: %s", msg.text);
    ck_assert_int_eq(a.count, count);
    for (int64_t i = 0; i < count; i++)
        ck_assert_msg(same_bits(a.data[i], data[i]), "rank %d, file: element %lld differs", rank,
                      (long long)i);
    sv_io_array_free(&a);
    remove_temp_dir();
    free(written.data);
    free(bytes);
    free(data);
}
END_TEST

/* Files written by NumPy: our writer reproduces np.save byte for byte, and the reader takes
 * NumPy's version 2.0 big-endian and version 3.0 Fortran-order float64 files. */
START_TEST(test_npy_numpy_files) {
    sv_message msg = {{0}};
    buffer f4 = read_fixture("npy_f4_2x3.npy");
    const float expected_f4[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
    const int64_t dims_f4[2] = {2, 3};
    unsigned char *bytes;
    size_t size;
    ck_assert_int_eq(sv_npy_encode(expected_f4, 2, dims_f4, &bytes, &size, &msg), SV_OK);
    ck_assert_uint_eq(size, f4.size);
    ck_assert_msg(memcmp(bytes, f4.data, size) == 0, "encoding differs from np.save's");
    free(bytes);

    sv_io_array a;
    ck_assert_int_eq(sv_npy_read_file(fixture_path("npy_f4_2x3.npy"), &a, &msg), SV_OK);
    ck_assert_int_eq(a.rank, 2);
    ck_assert_int_eq(a.dims[0], 2);
    ck_assert_int_eq(a.dims[1], 3);
    for (int i = 0; i < 6; i++)
        ck_assert(test_same_value(a.data[i], expected_f4[i]));
    sv_io_array_free(&a);

    ck_assert_int_eq(sv_npy_read_file(fixture_path("npy_f4_be_v2.npy"), &a, &msg), SV_OK);
    ck_assert_int_eq(a.rank, 3);
    ck_assert_int_eq(a.count, 8);
    for (int i = 0; i < 8; i++)
        ck_assert(test_same_value(a.data[i], (float)i - 3.5f));
    sv_io_array_free(&a);

    ck_assert_int_eq(sv_npy_read_file(fixture_path("npy_f8_fortran_v3.npy"), &a, &msg), SV_OK);
    ck_assert_int_eq(a.rank, 2);
    ck_assert_int_eq(a.dims[0], 3);
    ck_assert_int_eq(a.dims[1], 4);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            ck_assert_msg(a.data[i * 4 + j] == (float)(i * 10 + j) + 0.25f, "[%d][%d] = %g", i, j,
                          (double)a.data[i * 4 + j]);
    sv_io_array_free(&a);
    free(f4.data);
}
END_TEST

/* ---- .npy: every accepted variant, built here --------------------------------------------- */

typedef enum { F4_LE, F4_BE, F8_LE, F8_BE } dtype_code;

typedef struct npy_variant {
    const char *what;
    int major;
    const char *header; /* without the final newline, which the builder adds */
    dtype_code dtype;
    int rank;
    int64_t dims[SV_MAX_RANK];
    int fortran; /* the data below is given in C order; the builder stores it in F order */
    int count;
    double values[12];
} npy_variant;

static const npy_variant variants[] = {
    {"v1 <f4 (2, 3)",
     1,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
     F4_LE,
     2,
     {2, 3},
     0,
     6,
     {1, -2, 3.5, 0.25, -1e-3, 65504}},
    {"v2 >f4 (3,)",
     2,
     "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }",
     F4_BE,
     1,
     {3},
     0,
     3,
     {1.5, -0.0, 1e30}},
    {"v3 <f8 (2, 2)",
     3,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
     F8_LE,
     2,
     {2, 2},
     0,
     4,
     {0.1, -1.0 / 3.0, 1e-40, 3e38}},
    {"v1 >f8 scalar ()",
     1,
     "{'descr': '>f8', 'fortran_order': False, 'shape': (), }",
     F8_BE,
     0,
     {0},
     0,
     1,
     {2.718281828459045}},
    {"v1 <f4 Fortran (2, 3)",
     1,
     "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
     F4_LE,
     2,
     {2, 3},
     1,
     6,
     {1, 2, 3, 4, 5, 6}},
    {"v2 >f8 Fortran (2, 3, 2)",
     2,
     "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3, 2), }",
     F8_BE,
     3,
     {2, 3, 2},
     1,
     12,
     {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
    {"v3 Fortran (4,) is C order",
     3,
     "{'descr': '<f4', 'fortran_order': True, 'shape': (4,), }",
     F4_LE,
     1,
     {4},
     1,
     4,
     {4, 3, 2, 1}},
    {"keys reordered, double quotes, no trailing comma, spaces and newlines",
     1,
     "  {\"shape\" : ( 4 , ) ,\n\t'fortran_order':False,\r\n'descr':\"<f4\"}   ",
     F4_LE,
     1,
     {4},
     0,
     4,
     {9, 8, 7, 6}},
    {"Python 2 long suffix (v1)",
     1,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }",
     F4_LE,
     2,
     {2, 1},
     0,
     2,
     {-4, 4}},
    {"trailing comma in a two-element shape",
     2,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2,), }",
     F4_LE,
     2,
     {1, 2},
     0,
     2,
     {5, 6}},
    {"rank 5",
     1,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 3, 1), }",
     F4_LE,
     5,
     {1, 2, 1, 3, 1},
     0,
     6,
     {1, 2, 3, 4, 5, 6}},
    {"float64 specials",
     1,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }",
     F8_LE,
     1,
     {5},
     0,
     5,
     {INFINITY, -INFINITY, NAN, -0.0, 1e-320}},
};

/* Offset in Fortran order of the element at C-order index n. */
static int fortran_offset(int n, int rank, const int64_t *dims) {
    int offset = 0, stride = 1;
    int64_t c_stride[SV_MAX_RANK];
    for (int k = rank - 1; k >= 0; k--)
        c_stride[k] = k == rank - 1 ? 1 : c_stride[k + 1] * dims[k + 1];
    for (int k = 0; k < rank; k++) {
        offset += (int)((n / c_stride[k]) % dims[k]) * stride;
        stride *= (int)dims[k];
    }
    return offset;
}

START_TEST(test_npy_variants) {
    const npy_variant *v = &variants[_i];
    char header[256];
    snprintf(header, sizeof header, "%s\n", v->header);
    buffer b = {0};
    npy_preamble(&b, v->major, 0, header, 0);
    double stored[12];
    for (int n = 0; n < v->count; n++)
        stored[v->fortran ? fortran_offset(n, v->rank, v->dims) : n] = v->values[n];
    for (int n = 0; n < v->count; n++) {
        if (v->dtype == F4_LE || v->dtype == F4_BE)
            buf_f4(&b, (float)stored[n], v->dtype == F4_BE);
        else
            buf_f8(&b, stored[n], v->dtype == F8_BE);
    }
    sv_message msg = {{0}};
    sv_io_array a = untouched_array();
    sv_status st = sv_npy_read_memory(b.data, b.size, &a, &msg);
    ck_assert_msg(st == SV_OK, "%s: %s: %s", v->what, sv_status_name(st), msg.text);
    ck_assert_int_eq(a.rank, v->rank);
    ck_assert_int_eq(a.count, v->count);
    for (int i = 0; i < v->rank; i++)
        ck_assert_int_eq(a.dims[i], v->dims[i]);
    for (int n = 0; n < v->count; n++)
        ck_assert_msg(test_same_value(a.data[n], (float)v->values[n]),
                      "%s: [%d] = %.9g, expected %.9g", v->what, n, (double)a.data[n],
                      (double)(float)v->values[n]);
    sv_io_array_free(&a);
    free(b.data);
}
END_TEST

/* ---- .npy: malformed inputs --------------------------------------------------------------- */

#define GOOD_HEADER "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n"

typedef struct bad_npy {
    const char *what;
    int raw_len;        /* >= 0: the file is the first raw_len bytes of `header` as is */
    int major, minor;   /* else: a preamble of this version, */
    const char *header; /* this header, */
    long length_delta;  /* declared with this much added to its length, */
    int data_bytes;     /* and this many bytes of data (a float64 1e300 for '<f8' rows) */
    sv_status status;
    const char *phrase;
} bad_npy;

static const bad_npy bad_npys[] = {
    {"empty file", 0, 0, 0, "", 0, 0, SV_INVALID_ARGUMENT, "truncated header"},
    {"magic alone", 6, 0, 0, "\x93NUMPY", 0, 0, SV_INVALID_ARGUMENT, "truncated header"},
    {"bad magic", 10, 0, 0, "\x93NUMPZ\x01\x00\x10\x00", 0, 0, SV_INVALID_ARGUMENT, "bad magic"},
    {"a text file", 12, 0, 0, "hello world\n", 0, 0, SV_INVALID_ARGUMENT, "bad magic"},
    {"v1 length cut", 9, 0, 0, "\x93NUMPY\x01\x00\x10", 0, 0, SV_INVALID_ARGUMENT,
     "truncated header"},
    {"v2 length cut", 11, 0, 0, "\x93NUMPY\x02\x00\x10\x00\x00", 0, 0, SV_INVALID_ARGUMENT,
     "truncated header"},
    {"version 4.0", -1, 4, 0, GOOD_HEADER, 0, 24, SV_UNSUPPORTED, "version 4.0"},
    {"version 1.1", -1, 1, 1, GOOD_HEADER, 0, 24, SV_UNSUPPORTED, "version 1.1"},
    {"version 0.0", -1, 0, 0, GOOD_HEADER, 0, 24, SV_UNSUPPORTED, "version 0.0"},
    {"header length beyond the file", -1, 1, 0, GOOD_HEADER, 100, 24, SV_INVALID_ARGUMENT,
     "extends beyond the end"},
    {"v2 header length 4 GiB", -1, 2, 0, GOOD_HEADER, 0xffff0000L, 0, SV_INVALID_ARGUMENT,
     "extends beyond the end"},
    {"header length cuts the dict", -1, 1, 0, GOOD_HEADER, -20, 24, SV_INVALID_ARGUMENT,
     "malformed header"},
    {"dtype <i4", -1, 1, 0, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n", 0, 8,
     SV_UNSUPPORTED, "unsupported dtype '<i4'"},
    {"dtype |u1", -1, 1, 0, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }\n", 0, 2,
     SV_UNSUPPORTED, "unsupported dtype '|u1'"},
    {"dtype <f2", -1, 1, 0, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }\n", 0, 4,
     SV_UNSUPPORTED, "unsupported dtype '<f2'"},
    {"dtype =f4", -1, 1, 0, "{'descr': '=f4', 'fortran_order': False, 'shape': (2,), }\n", 0, 8,
     SV_UNSUPPORTED, "unsupported dtype '=f4'"},
    {"structured dtype", -1, 1, 0,
     "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", 0, 8, SV_UNSUPPORTED,
     "structured"},
    {"descr not a string", -1, 1, 0, "{'descr': 4, 'fortran_order': False, 'shape': (2,), }\n", 0,
     8, SV_INVALID_ARGUMENT, "dtype string"},
    {"fortran_order 1", -1, 1, 0, "{'descr': '<f4', 'fortran_order': 1, 'shape': (2,), }\n", 0, 8,
     SV_INVALID_ARGUMENT, "True or False"},
    {"fortran_order Falsey", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,), }\n", 0, 8, SV_INVALID_ARGUMENT,
     "True or False"},
    {"missing shape", -1, 1, 0, "{'descr': '<f4', 'fortran_order': False, }\n", 0, 4,
     SV_INVALID_ARGUMENT, "lacks the 'shape' key"},
    {"missing descr", -1, 1, 0, "{'fortran_order': False, 'shape': (1,), }\n", 0, 4,
     SV_INVALID_ARGUMENT, "lacks the 'descr' key"},
    {"missing fortran_order", -1, 1, 0, "{'descr': '<f4', 'shape': (1,), }\n", 0, 4,
     SV_INVALID_ARGUMENT, "lacks the 'fortran_order' key"},
    {"duplicate key", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'descr': '<f4'}\n", 0, 4,
     SV_INVALID_ARGUMENT, "duplicate key 'descr'"},
    {"unknown key", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'order': 'C'}\n", 0, 4,
     SV_INVALID_ARGUMENT, "unexpected key 'order'"},
    {"not a dict", -1, 1, 0, "['descr', '<f4']\n", 0, 4, SV_INVALID_ARGUMENT, "'{'"},
    {"unterminated string", -1, 1, 0, "{'descr: '<f4', 'fortran_order': False}\n", 0, 4,
     SV_INVALID_ARGUMENT, "malformed header"},
    {"escape in a string", -1, 1, 0,
     "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1,), }\n", 0, 4, SV_INVALID_ARGUMENT,
     "printable character"},
    {"missing colon", -1, 1, 0, "{'descr' '<f4', 'fortran_order': False, 'shape': (1,), }\n", 0, 4,
     SV_INVALID_ARGUMENT, "':' after a key"},
    {"missing comma", -1, 1, 0, "{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }\n", 0, 4,
     SV_INVALID_ARGUMENT, "',' or '}'"},
    {"garbage after the dict", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x\n", 0, 4, SV_INVALID_ARGUMENT,
     "only whitespace after"},
    {"no final newline", -1, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }  ", 0,
     4, SV_INVALID_ARGUMENT, "newline"},
    {"NUL in the header", -1, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } \n",
     0, 4, SV_INVALID_ARGUMENT, "found byte 0x00"},
    {"shape not a tuple", -1, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': [2], }\n", 0,
     8, SV_INVALID_ARGUMENT, "'(' opening the tuple"},
    {"one-element shape without its comma", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }\n", 0, 8, SV_INVALID_ARGUMENT,
     "not a tuple"},
    {"negative dimension", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }\n", 0, 8, SV_INVALID_ARGUMENT,
     "negative dimension -3"},
    {"dimension beyond int64", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", 0, 8,
     SV_INVALID_ARGUMENT, "dimension 99999999999999999999 in the shape is too large"},
    {"element count overflows", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n", 0, 8,
     SV_INVALID_ARGUMENT, "too many elements"},
    {"huge shape, tiny file", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }\n", 0, 8,
     SV_INVALID_ARGUMENT, "needs 4000000000000 bytes, 8 present"},
    {"float dimension", -1, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }\n",
     0, 8, SV_INVALID_ARGUMENT, "',' or ')' in 'shape'"},
    {"long suffix in version 3.0", -1, 3, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }\n", 0, 8, SV_INVALID_ARGUMENT,
     "',' or ')' in 'shape'"},
    {"rank 6", -1, 1, 0,
     "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1), }\n", 0, 4,
     SV_UNSUPPORTED, "rank above the supported maximum of 5"},
    {"zero dimension", -1, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0), }\n", 0,
     0, SV_UNSUPPORTED, "empty arrays are not supported"},
    {"data shorter than the shape", -1, 1, 0, GOOD_HEADER, 0, 20, SV_INVALID_ARGUMENT,
     "truncated data: shape [2, 3] of '<f4' needs 24 bytes, 20 present"},
    {"no data", -1, 2, 0, GOOD_HEADER, 0, 0, SV_INVALID_ARGUMENT, "needs 24 bytes, 0 present"},
    {"trailing garbage", -1, 1, 0, GOOD_HEADER, 0, 28, SV_INVALID_ARGUMENT,
     "4 trailing bytes after the 24 bytes of data"},
    {"float64 beyond float32", -1, 1, 0,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n", 0, 8, SV_UNSUPPORTED,
     "outside the float32 range"},
};

static buffer build_bad_npy(const bad_npy *row) {
    buffer b = {0};
    if (row->raw_len >= 0) {
        buf_put(&b, row->header, (size_t)row->raw_len);
        return b;
    }
    npy_preamble(&b, row->major, row->minor, row->header, row->length_delta);
    if (strstr(row->what, "NUL"))
        b.data[b.size - 2] = '\0'; /* the space before the final newline */
    if (strstr(row->header, "'<f8'") && strstr(row->what, "float32")) {
        buf_f8(&b, 1e300, 0);
        return b;
    }
    for (int k = 0; k < row->data_bytes; k++)
        buf_byte(&b, 0x3f);
    return b;
}

START_TEST(test_npy_bad_inputs) {
    const bad_npy *row = &bad_npys[_i];
    buffer b = build_bad_npy(row);
    sv_message msg = {{0}};
    sv_io_array a = untouched_array();
    sv_status st = sv_npy_read_memory(b.data, b.size, &a, &msg);
    ck_assert_msg(st == row->status, "%s: expected %s, got %s (%s)", row->what,
                  sv_status_name(row->status), sv_status_name(st), msg.text);
    ck_assert_msg(strstr(msg.text, row->phrase) != NULL, "%s: message '%s' lacks '%s'", row->what,
                  msg.text, row->phrase);
    assert_untouched(&a, row->what);

    /* the same through a file: the status holds and the message names the file */
    make_temp_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/bad.npy", temp_dir);
    write_bytes(path, b.data, b.size);
    sv_message file_msg = {{0}};
    st = sv_npy_read_file(path, &a, &file_msg);
    ck_assert_int_eq(st, row->status);
    ck_assert_msg(strstr(file_msg.text, path) == file_msg.text &&
                      strstr(file_msg.text, row->phrase) != NULL,
                  "%s: file message '%s'", row->what, file_msg.text);
    assert_untouched(&a, row->what);
    remove_temp_dir();
    free(b.data);
}
END_TEST

/* Every proper prefix of a valid file is refused, with a message, and never read past; the data
 * part of it as truncated data. */
START_TEST(test_npy_every_truncation) {
    const int64_t dims[3] = {2, 3, 4};
    float data[24];
    for (int i = 0; i < 24; i++)
        data[i] = (float)i;
    unsigned char *bytes;
    size_t size;
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_npy_encode(data, 3, dims, &bytes, &size, &msg), SV_OK);
    for (size_t len = 0; len < size; len++) {
        /* a copy of exactly len bytes, so that a read past it is a heap overflow under ASan or
         * valgrind */
        unsigned char *cut = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(cut);
        memcpy(cut, bytes, len);
        sv_io_array a = untouched_array();
        msg.text[0] = '\0';
        sv_status st = sv_npy_read_memory(cut, len, &a, &msg);
        ck_assert_msg(st == SV_INVALID_ARGUMENT, "prefix of %zu bytes: %s", len,
                      sv_status_name(st));
        ck_assert_msg(msg.text[0] != '\0', "prefix of %zu bytes: no message", len);
        if (len >= 128)
            ck_assert_msg(strstr(msg.text, "truncated data"), "prefix %zu: %s", len, msg.text);
        assert_untouched(&a, "truncation");
        free(cut);
    }
    free(bytes);
}
END_TEST

/* Random byte changes in the preamble and header of a valid file: whatever comes out is a clean
 * refusal with a message, or an array whose size matches the bytes present. */
START_TEST(test_npy_random_corruption) {
    const int64_t dims[2] = {3, 5};
    float data[15] = {0};
    unsigned char *bytes;
    size_t size;
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_npy_encode(data, 2, dims, &bytes, &size, &msg), SV_OK);
    static const char alphabet[] = "0123456789(),: '\"{}<>|fiTFLu-\n\0\xff";
    int accepted = 0;
    for (int trial = 0; trial < 4000; trial++) {
        test_rng rng = test_rng_for(1000 + (uint64_t)trial);
        unsigned char *copy = malloc(size);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, bytes, size);
        const int changes = test_int(&rng, 1, 4);
        for (int k = 0; k < changes; k++) {
            const int at = test_int(&rng, 0, 127);
            copy[at] = test_int(&rng, 0, 1)
                           ? (unsigned char)test_int(&rng, 0, 255)
                           : (unsigned char)alphabet[test_int(&rng, 0, (int)sizeof alphabet - 2)];
        }
        sv_io_array a = untouched_array();
        msg.text[0] = '\0';
        sv_status st = sv_npy_read_memory(copy, size, &a, &msg);
        if (st == SV_OK) {
            accepted++;
            ck_assert(a.count >= 1 && a.count <= 15);
            sv_io_array_free(&a);
        } else {
            ck_assert_msg(msg.text[0] != '\0', "trial %d: %s without a message", trial,
                          sv_status_name(st));
            assert_untouched(&a, "corruption");
        }
        free(copy);
    }
    ck_assert_int_lt(accepted, 4000); /* the corruption did reach the parser */
    free(bytes);
}
END_TEST

START_TEST(test_npy_file_and_argument_errors) {
    sv_message msg = {{0}};
    sv_io_array a = untouched_array();
    make_temp_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/missing.npy", temp_dir);
    ck_assert_int_eq(sv_npy_read_file(path, &a, &msg), SV_IO);
    ck_assert_msg(strstr(msg.text, "No such file"), "%s", msg.text);
    ck_assert_int_eq(sv_npy_read_file(temp_dir, &a, &msg), SV_IO);
    ck_assert_msg(strstr(msg.text, "directory"), "%s", msg.text);
    assert_untouched(&a, "missing file");

    const float data[2] = {1, 2};
    const int64_t dims[6] = {2, 1, 1, 1, 1, 1}, zero[1] = {0};
    snprintf(path, sizeof path, "%s/no/such/dir/x.npy", temp_dir);
    ck_assert_int_eq(sv_npy_write_file(path, data, 1, dims, &msg), SV_IO);
    ck_assert_msg(strstr(msg.text, "cannot create"), "%s", msg.text);
    snprintf(path, sizeof path, "%s/x.npy", temp_dir);
    ck_assert_int_eq(sv_npy_write_file(path, data, 6, dims, &msg), SV_INVALID_ARGUMENT);
    ck_assert_msg(strstr(msg.text, "rank 6"), "%s", msg.text);
    ck_assert_int_eq(sv_npy_write_file(path, data, 1, zero, &msg), SV_INVALID_ARGUMENT);
    ck_assert_msg(strstr(msg.text, "dimension < 1"), "%s", msg.text);
    ck_assert_int_eq(sv_npy_write_file(path, NULL, 1, dims, &msg), SV_INVALID_ARGUMENT);
    ck_assert_int_eq(temp_dir_entries(), 0); /* nothing written by the failed calls */
    /* a scalar needs no dims */
    ck_assert_int_eq(sv_npy_write_file(path, data, 0, NULL, &msg), SV_OK);
    ck_assert_int_eq(sv_npy_read_file(path, &a, &msg), SV_OK);
    ck_assert_int_eq(a.rank, 0);
    ck_assert_int_eq(a.count, 1);
    ck_assert(a.data[0] == 1.0f);
    sv_io_array_free(&a);
    remove_temp_dir();

    ck_assert_int_eq(sv_npy_read_memory(NULL, 10, &a, &msg), SV_INVALID_ARGUMENT);
    ck_assert_int_eq(sv_npy_read_memory(data, sizeof data, NULL, NULL), SV_INVALID_ARGUMENT);
    ck_assert_int_eq(sv_npy_read_file(NULL, &a, &msg), SV_INVALID_ARGUMENT);
}
END_TEST

/* ---- images: builders --------------------------------------------------------------------- */

/* A binary PPM (channels 3) or PGM (1) of 8- or 16-bit samples, with a comment in the header. */
static buffer make_pnm(int width, int height, int channels, int maxval, const int *samples) {
    buffer b = {0};
    char header[96];
    snprintf(header, sizeof header, "P%c\n# made by test_io\n%d %d\n%d\n",
             channels == 3 ? '6' : '5', width, height, maxval);
    buf_str(&b, header);
    for (int i = 0; i < width * height * channels; i++)
        buf_uint(&b, (uint64_t)samples[i], maxval < 256 ? 1 : 2, 1);
    return b;
}

static uint32_t crc_table[256];

static uint32_t crc32_of(const unsigned char *p, size_t n) {
    if (!crc_table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void png_chunk(buffer *b, const char *type, const unsigned char *data, size_t n) {
    buf_uint(b, n, 4, 1);
    const size_t at = b->size;
    buf_put(b, type, 4);
    buf_put(b, data, n);
    buf_uint(b, crc32_of(b->data + at, n + 4), 4, 1);
}

/* A PNG of the given colour type and depth whose scanlines (filter 0) carry `samples` (row
 * major, interleaved), compressed as zlib stored blocks; a palette for colour type 3. */
static buffer make_png(int width, int height, int depth, int color_type, const int *samples,
                       const unsigned char *palette, int palette_entries) {
    static const int channels_of[7] = {1, 0, 3, 1, 2, 0, 4};
    const int channels = channels_of[color_type];
    buffer raw = {0};
    for (int y = 0; y < height; y++) {
        buf_byte(&raw, 0);
        for (int i = 0; i < width * channels; i++)
            buf_uint(&raw, (uint64_t)samples[y * width * channels + i], depth / 8, 1);
    }
    buffer z = {0};
    buf_byte(&z, 0x78);
    buf_byte(&z, 0x01);
    for (size_t at = 0; at < raw.size || at == 0;) {
        const size_t n = raw.size - at > 65535 ? 65535 : raw.size - at;
        buf_byte(&z, at + n == raw.size ? 1 : 0);
        buf_uint(&z, n, 2, 0);
        buf_uint(&z, ~n & 0xffff, 2, 0);
        buf_put(&z, raw.data + at, n);
        at += n;
        if (n == 0)
            break;
    }
    uint32_t s1 = 1, s2 = 0;
    for (size_t i = 0; i < raw.size; i++) {
        s1 = (s1 + raw.data[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    buf_uint(&z, (uint64_t)s2 << 16 | s1, 4, 1);

    buffer b = {0};
    buf_put(&b, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13];
    for (int k = 0; k < 4; k++) {
        ihdr[k] = (unsigned char)((unsigned)width >> (24 - 8 * k));
        ihdr[4 + k] = (unsigned char)((unsigned)height >> (24 - 8 * k));
    }
    ihdr[8] = (unsigned char)depth;
    ihdr[9] = (unsigned char)color_type;
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    png_chunk(&b, "IHDR", ihdr, sizeof ihdr);
    if (palette)
        png_chunk(&b, "PLTE", palette, (size_t)palette_entries * 3);
    png_chunk(&b, "IDAT", z.data, z.size);
    png_chunk(&b, "IEND", NULL, 0);
    free(raw.data);
    free(z.data);
    return b;
}

static sv_io_array read_image(const buffer *b, const sv_image_options *o, const char *what) {
    sv_message msg = {{0}};
    sv_io_array a = untouched_array();
    sv_status st = sv_image_read_memory(b->data, b->size, o, &a, &msg);
    ck_assert_msg(st == SV_OK, "%s: %s: %s", what, sv_status_name(st), msg.text);
    ck_assert_int_eq(a.rank, 4);
    ck_assert_int_eq(a.dims[0], 1);
    ck_assert_int_eq(a.dims[1], o->channels);
    ck_assert_int_eq(a.count, a.dims[1] * a.dims[2] * a.dims[3]);
    return a;
}

/* Checks out[c][y][x] == sample / maxval exactly, for an image read with mean 0, std 1 and its
 * own size: the value the reader computes, (float)(s / maxval), is the correctly rounded one. */
static void assert_exact(const sv_io_array *a, int width, int height, int channels,
                         const int *samples, int sample_channels, double maxval, const char *what) {
    ck_assert_int_eq(a->dims[2], height);
    ck_assert_int_eq(a->dims[3], width);
    for (int c = 0; c < channels; c++)
        for (int p = 0; p < width * height; p++) {
            const int sc = sample_channels <= 2 ? 0 : c;
            const float expected = (float)(samples[p * sample_channels + sc] / maxval);
            const float got = a->data[(size_t)c * (size_t)(width * height) + (size_t)p];
            ck_assert_msg(got == expected, "%s: channel %d pixel %d: %.9g, expected %.9g", what, c,
                          p, (double)got, (double)expected);
        }
}

/* ---- images: exact decoding -------------------------------------------------------------- */

START_TEST(test_pnm_exact) {
    const int rgb[3 * 2 * 3] = {0,   1,   2,   255, 128, 64,  10, 20, 30,
                                254, 253, 252, 7,   77,  177, 99, 0,  255};
    buffer ppm = make_pnm(3, 2, 3, 255, rgb);
    sv_image_options o = sv_image_options_default(0, 0, 3);
    sv_io_array a = read_image(&ppm, &o, "P6");
    assert_exact(&a, 3, 2, 3, rgb, 3, 255.0, "P6");
    sv_io_array_free(&a);
    /* the same with the size given explicitly: an identity resize, also exact */
    o = sv_image_options_default(2, 3, 3);
    a = read_image(&ppm, &o, "P6 identity resize");
    assert_exact(&a, 3, 2, 3, rgb, 3, 255.0, "P6 identity resize");
    sv_io_array_free(&a);

    /* 16-bit PGM with maxval 1000, big-endian samples; grey expanded to three channels */
    const int grey[4] = {0, 1000, 999, 256};
    buffer pgm = make_pnm(2, 2, 1, 1000, grey);
    o = sv_image_options_default(0, 0, 3);
    a = read_image(&pgm, &o, "P5 16-bit");
    assert_exact(&a, 2, 2, 3, grey, 1, 1000.0, "P5 16-bit");
    sv_io_array_free(&a);
    o.channels = 1;
    a = read_image(&pgm, &o, "P5 16-bit grey");
    assert_exact(&a, 2, 2, 1, grey, 1, 1000.0, "P5 16-bit grey");
    sv_io_array_free(&a);

    /* plain (ASCII) formats, maxval 15, samples spread over lines */
    const char *p3 = "P3 2 1 15\n 0  7 15\n\t15 0\n1\n";
    const int p3_samples[6] = {0, 7, 15, 15, 0, 1};
    buffer b = {0};
    buf_str(&b, p3);
    o = sv_image_options_default(0, 0, 3);
    a = read_image(&b, &o, "P3");
    assert_exact(&a, 2, 1, 3, p3_samples, 3, 15.0, "P3");
    sv_io_array_free(&a);
    free(b.data);
    b = (buffer){0};
    buf_str(&b, "P2\n#c\n1 3\n15 3 9 12");
    const int p2_samples[3] = {3, 9, 12};
    a = read_image(&b, &o, "P2");
    assert_exact(&a, 1, 3, 3, p2_samples, 1, 15.0, "P2");
    sv_io_array_free(&a);
    free(b.data);
    free(ppm.data);
    free(pgm.data);
}
END_TEST

/* PNGs of every colour type, 8- and 16-bit: samples scaled by 255 or 65535, grey copied to
 * R, G and B, alpha dropped, a palette looked up. */
START_TEST(test_png_exact) {
    sv_image_options rgb = sv_image_options_default(0, 0, 3);
    const int rgba[2 * 2 * 4] = {255, 0, 10, 0, 1, 2, 3, 255, 100, 150, 200, 128, 9, 8, 7, 6};
    const int rgba_rgb[2 * 2 * 3] = {255, 0, 10, 1, 2, 3, 100, 150, 200, 9, 8, 7};
    buffer b = make_png(2, 2, 8, 6, rgba, NULL, 0);
    sv_io_array a = read_image(&b, &rgb, "RGBA 8");
    assert_exact(&a, 2, 2, 3, rgba_rgb, 3, 255.0, "RGBA 8");
    sv_io_array_free(&a);
    free(b.data);

    const int grey16[3] = {0, 65535, 4660};
    b = make_png(3, 1, 16, 0, grey16, NULL, 0);
    a = read_image(&b, &rgb, "grey 16");
    assert_exact(&a, 3, 1, 3, grey16, 1, 65535.0, "grey 16");
    sv_io_array_free(&a);
    free(b.data);

    const int rgb16[2 * 3] = {65535, 0, 1, 256, 32768, 12345};
    b = make_png(2, 1, 16, 2, rgb16, NULL, 0);
    a = read_image(&b, &rgb, "RGB 16");
    assert_exact(&a, 2, 1, 3, rgb16, 3, 65535.0, "RGB 16");
    sv_io_array_free(&a);
    free(b.data);

    const int grey_alpha[2 * 2] = {17, 0, 240, 255};
    const int grey_only[2] = {17, 240};
    b = make_png(1, 2, 8, 4, grey_alpha, NULL, 0);
    a = read_image(&b, &rgb, "grey+alpha");
    assert_exact(&a, 1, 2, 3, grey_only, 1, 255.0, "grey+alpha");
    sv_io_array_free(&a);
    free(b.data);

    const unsigned char palette[3 * 3] = {10, 20, 30, 200, 100, 0, 1, 2, 3};
    const int indices[4] = {1, 0, 2, 1};
    const int looked_up[4 * 3] = {200, 100, 0, 10, 20, 30, 1, 2, 3, 200, 100, 0};
    b = make_png(4, 1, 8, 3, indices, palette, 3);
    a = read_image(&b, &rgb, "palette");
    assert_exact(&a, 4, 1, 3, looked_up, 3, 255.0, "palette");
    sv_io_array_free(&a);
    free(b.data);
}
END_TEST

static void png_fixture_pixel(int x, int y, int *rgb) {
    rgb[0] = 17 * x + 60 * y;
    rgb[1] = 255 - 20 * x - 30 * y;
    rgb[2] = (x * y * 37) % 256;
}

/* Files made by zlib (real deflate, filtered rows) and by libjpeg through PIL, read by path. */
START_TEST(test_image_fixtures) {
    int expected[4 * 3 * 3];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            png_fixture_pixel(x, y, &expected[(y * 4 + x) * 3]);
    sv_image_options o = sv_image_options_default(0, 0, 3);
    sv_message msg = {{0}};
    sv_io_array a;
    ck_assert_int_eq(sv_image_read_file(fixture_path("rgb_4x3.png"), &o, &a, &msg), SV_OK);
    assert_exact(&a, 4, 3, 3, expected, 3, 255.0, "rgb_4x3.png");
    sv_io_array_free(&a);

    /* JPEG is lossy: the solid colour (200, 120, 40) comes back within a few levels (PIL's
     * libjpeg gives (201, 120, 41)); every pixel equal, since the colour is solid. */
    ck_assert_int_eq(sv_image_read_file(fixture_path("solid_16x8.jpg"), &o, &a, &msg), SV_OK);
    ck_assert_int_eq(a.dims[2], 8);
    ck_assert_int_eq(a.dims[3], 16);
    const double colour[3] = {200, 120, 40};
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 128; p++) {
            const double v = a.data[c * 128 + p] * 255.0;
            ck_assert_msg(fabs(v - colour[c]) <= 3.0, "JPEG channel %d pixel %d: %g", c, p, v);
            ck_assert(a.data[c * 128 + p] == a.data[c * 128]);
        }
    sv_io_array_free(&a);
}
END_TEST

/* ---- images: channels, normalisation, resize --------------------------------------------- */

/* Luminance 0.299 R + 0.587 G + 0.114 B (computed in double, rounded once to float: 1 ulp) and
 * the ImageNet normalisation (x - mean) / std (rounded once: 1 ulp of the result, bounded by
 * 1e-6 absolute for |result| < 3). */
START_TEST(test_luminance_and_normalisation) {
    const int rgb[2 * 3] = {255, 0, 0, 30, 200, 90};
    buffer ppm = make_pnm(2, 1, 3, 255, rgb);
    sv_image_options o = sv_image_options_default(0, 0, 1);
    sv_io_array a = read_image(&ppm, &o, "luminance");
    for (int p = 0; p < 2; p++) {
        const double y =
            (0.299 * rgb[3 * p] + 0.587 * rgb[3 * p + 1] + 0.114 * rgb[3 * p + 2]) / 255.0;
        ck_assert_msg(fabs(a.data[p] - y) <= 1e-7, "pixel %d: %.9g, expected %.9g", p,
                      (double)a.data[p], y);
    }
    ck_assert_msg(fabs(a.data[0] - 0.299) <= 1e-7, "pure red: %.9g", (double)a.data[0]);
    sv_io_array_free(&a);

    o = sv_image_options_imagenet(0, 0);
    a = read_image(&ppm, &o, "imagenet");
    const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 2; p++) {
            const double expected = (rgb[3 * p + c] / 255.0 - mean[c]) / std[c];
            ck_assert_msg(fabs(a.data[c * 2 + p] - expected) <= 1e-6,
                          "channel %d pixel %d: %.9g, expected %.9g", c, p,
                          (double)a.data[c * 2 + p], expected);
        }
    /* red, pixel 0: (1 - 0.485) / 0.229 = 2.2489083 */
    ck_assert_msg(fabs(a.data[0] - 2.2489083) <= 1e-6, "%.9g", (double)a.data[0]);
    sv_io_array_free(&a);
    free(ppm.data);
}
END_TEST

/* Bilinear with half-pixel centres, by hand. 2 x 2 [[0, 51], [102, 255]] to 4 x 4: output
 * index o maps to s = (o + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (both
 * neighbours the last pixel). E.g. (y, x) = (1, 2): s = (0.25, 0.75), top = 0.25 * 0 + 0.75 * 51
 * = 38.25, bottom = 0.25 * 102 + 0.75 * 255 = 216.75, value = 0.75 * 38.25 + 0.25 * 216.75 =
 * 82.875. The whole grid, in units of 1/255 (torch.nn.functional.interpolate, bilinear,
 * align_corners=False, gives the same). Shrinking 4 x 4 (10 * index) to 2 x 2 samples at
 * s = 0.5 and 2.5: the mean of each 2 x 2 block, 25, 45, 105, 125, with no wider filter.
 * Values are (float) of a double computation: compared within 1e-6 on the [0, 1] scale. */
START_TEST(test_bilinear_by_hand) {
    const int square[4] = {0, 51, 102, 255};
    const double grid[16] = {0,    12.75,   38.25,   51,  25.5, 44.625, 82.875, 102,
                             76.5, 108.375, 172.125, 204, 102,  140.25, 216.75, 255};
    buffer pgm = make_pnm(2, 2, 1, 255, square);
    sv_image_options o = sv_image_options_default(4, 4, 1);
    sv_io_array a = read_image(&pgm, &o, "enlarge");
    for (int i = 0; i < 16; i++)
        ck_assert_msg(fabs(a.data[i] - grid[i] / 255.0) <= 1e-6,
                      "enlarge [%d][%d]: %.9g, "
                      "expected %.9g",
                      i / 4, i % 4, a.data[i] * 255.0, grid[i]);
    sv_io_array_free(&a);
    free(pgm.data);

    int ramp[16];
    for (int i = 0; i < 16; i++)
        ramp[i] = 10 * i;
    pgm = make_pnm(4, 4, 1, 255, ramp);
    o = sv_image_options_default(2, 2, 3);
    a = read_image(&pgm, &o, "shrink");
    const double block_means[4] = {25, 45, 105, 125};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4; i++)
            ck_assert_msg(fabs(a.data[c * 4 + i] - block_means[i] / 255.0) <= 1e-6,
                          "shrink channel %d [%d]: %.9g", c, i, a.data[c * 4 + i] * 255.0);
    sv_io_array_free(&a);
    free(pgm.data);

    /* unequal factors on the two axes, 3 x 5 to 2 x 7; expected values (in units of 1/255)
     * from torch.nn.functional.interpolate(mode="bilinear", align_corners=False) */
    int odd[15];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 5; x++)
            odd[y * 5 + x] = (7 * y * y + 39 * x + 5 * y * x) % 256;
    const double torch[14] = {1.75,   24.75,       53.5,        82.25,       111,
                              139.75, 162.75,      22.75,       50.03571429, 84.14285714,
                              118.25, 152.3571429, 186.4642857, 213.75};
    pgm = make_pnm(5, 3, 1, 255, odd);
    o = sv_image_options_default(2, 7, 1);
    a = read_image(&pgm, &o, "3x5 to 2x7");
    for (int i = 0; i < 14; i++)
        ck_assert_msg(fabs(a.data[i] - torch[i] / 255.0) <= 1e-6, "[%d][%d]: %.9g, expected %.9g",
                      i / 7, i % 7, a.data[i] * 255.0, torch[i]);
    sv_io_array_free(&a);
    free(pgm.data);
}
END_TEST

/* Resizing is linear in the samples, so it commutes with normalisation; a solid image stays
 * solid at any size; the output takes any size up to the limits. */
START_TEST(test_resize_properties) {
    int solid[5 * 3 * 3];
    for (int i = 0; i < 45; i++)
        solid[i] = (i % 3 == 0) ? 200 : (i % 3 == 1) ? 50 : 0;
    buffer ppm = make_pnm(5, 3, 3, 255, solid);
    test_rng rng = test_rng_for(77);
    for (int k = 0; k < 20; k++) {
        const int h = test_int(&rng, 1, 40), w = test_int(&rng, 1, 40);
        sv_image_options o = sv_image_options_imagenet(h, w);
        sv_io_array a = read_image(&ppm, &o, "solid");
        ck_assert_int_eq(a.dims[2], h);
        ck_assert_int_eq(a.dims[3], w);
        for (int c = 0; c < 3; c++) {
            const double expected = (solid[c] / 255.0 - o.mean[c]) / o.std[c];
            for (int p = 0; p < h * w; p++)
                ck_assert_msg(fabs(a.data[c * h * w + p] - expected) <= 1e-6,
                              "%d x %d channel %d pixel %d: %.9g", h, w, c, p,
                              (double)a.data[c * h * w + p]);
        }
        sv_io_array_free(&a);
    }
    free(ppm.data);
}
END_TEST

/* ---- images: bad inputs and options ------------------------------------------------------ */

typedef struct bad_image {
    const char *what;
    sv_status status;
    const char *phrase;
} bad_image;

static const bad_image bad_images[] = {
    {"empty input", SV_INVALID_ARGUMENT, "empty input"},
    {"GIF", SV_UNSUPPORTED, "unsupported image format"},
    {"BMP", SV_UNSUPPORTED, "unsupported image format"},
    {"PBM bitmap", SV_UNSUPPORTED, "unsupported image format"},
    {"PNG cut in its header", SV_INVALID_ARGUMENT, "cannot decode PNG"},
    {"PNG with a corrupt IDAT", SV_INVALID_ARGUMENT, "cannot decode PNG"},
    {"PNG cut in its data", SV_INVALID_ARGUMENT, "cannot decode PNG"},
    {"PNG of 40000 x 40000", SV_UNSUPPORTED, "exceeds the limit"},
    {"PNG of 0 x 5", SV_INVALID_ARGUMENT, "PNG"},
    {"JPEG cut in its header", SV_INVALID_ARGUMENT, "cannot decode JPEG"},
    {"PPM of 0 x 2", SV_INVALID_ARGUMENT, "zero width or height"},
    {"PPM of 40000 x 1", SV_UNSUPPORTED, "exceeds the limit"},
    {"PPM of 6000 x 6000", SV_UNSUPPORTED, "exceeds the limit"},
    {"PPM of 10^12 x 10^12", SV_UNSUPPORTED, "PPM width 1000000000000 is too large"},
    {"PPM maxval 0", SV_INVALID_ARGUMENT, "maxval 0"},
    {"PPM maxval 70000", SV_INVALID_ARGUMENT, "maxval 70000"},
    {"PPM cut in its raster", SV_INVALID_ARGUMENT, "truncated PPM: the raster needs 18 bytes, 17"},
    {"PPM cut in its header", SV_INVALID_ARGUMENT, "truncated PPM header"},
    {"PPM without whitespace after the magic", SV_INVALID_ARGUMENT, "malformed PPM header"},
    {"PPM without whitespace after maxval", SV_INVALID_ARGUMENT, "one whitespace character"},
    {"PGM sample over maxval", SV_INVALID_ARGUMENT, "sample 200 at index 1 exceeds maxval 100"},
    {"P3 cut in its raster", SV_INVALID_ARGUMENT, "truncated PPM: 5 of 6 samples"},
    {"P2 with a non-number", SV_INVALID_ARGUMENT, "malformed PGM raster"},
    {"2 channels", SV_INVALID_ARGUMENT, "2 channels requested"},
    {"height 0, width 5", SV_INVALID_ARGUMENT, "output size 0 x 5"},
    {"negative size", SV_INVALID_ARGUMENT, "output size -2 x -2"},
    {"output 40000 x 1", SV_UNSUPPORTED, "output size 40000 x 1 exceeds"},
    {"output 8000 x 8000", SV_UNSUPPORTED, "output size 8000 x 8000 exceeds"},
    {"std 0", SV_INVALID_ARGUMENT, "std[1]"},
    {"std negative", SV_INVALID_ARGUMENT, "std[2]"},
    {"mean NaN", SV_INVALID_ARGUMENT, "mean[0]"},
};

/* Builds row i's input: a good 3 x 2 PPM and default options, with one thing broken. */
static buffer bad_image_input(int row, sv_image_options *o) {
    const int rgb[18] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
    *o = sv_image_options_default(0, 0, 3);
    buffer b = {0};
    switch (row) {
    case 0: break;
    case 1: buf_put(&b, "GIF89a\x01\x00\x01\x00", 10); break;
    case 2: buf_put(&b, "BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00", 14); break;
    case 3: buf_str(&b, "P4\n8 1\n\xff"); break;
    case 4: {
        buffer png = make_png(3, 2, 8, 2, rgb, NULL, 0);
        buf_put(&b, png.data, 20);
        free(png.data);
        break;
    }
    case 5:
    case 6: {
        b = make_png(3, 2, 8, 2, rgb, NULL, 0);
        if (row == 5)
            b.data[33 + 8 + 1] ^= 0xff; /* the zlib header's check byte in IDAT */
        else
            b.size = 33 + 8 + 10; /* IDAT announced, then cut */
        break;
    }
    case 7:
    case 8: {
        /* a header-only PNG claiming the size; no pixel data is ever needed to refuse it */
        const int zero[1] = {0};
        b = make_png(1, 1, 8, 0, zero, NULL, 0);
        const unsigned w = row == 7 ? 40000 : 0, h = row == 7 ? 40000 : 5;
        for (int k = 0; k < 4; k++) {
            b.data[16 + k] = (unsigned char)(w >> (24 - 8 * k));
            b.data[20 + k] = (unsigned char)(h >> (24 - 8 * k));
        }
        const uint32_t crc = crc32_of(b.data + 12, 17);
        for (int k = 0; k < 4; k++)
            b.data[29 + k] = (unsigned char)(crc >> (24 - 8 * k));
        break;
    }
    case 9: buf_put(&b, "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", 13); break;
    case 10: buf_str(&b, "P6 0 2 255\n"); break;
    case 11: buf_str(&b, "P6 40000 1 255\n"); break;
    case 12: buf_str(&b, "P6 6000 6000 255\n"); break;
    case 13: buf_str(&b, "P6 1000000000000 1000000000000 255\n"); break;
    case 14: buf_str(&b, "P6 3 2 0\n"); break;
    case 15: buf_str(&b, "P6 3 2 70000\n"); break;
    case 16:
        b = make_pnm(3, 2, 3, 255, rgb);
        b.size--;
        break;
    case 17: buf_str(&b, "P6 3 2"); break;
    case 18: buf_str(&b, "P6x3 2 255\n"); break;
    case 19: buf_str(&b, "P6 1 1 255"); break;
    case 20: {
        const int grey[2] = {100, 200};
        b = make_pnm(2, 1, 1, 255, grey);
        memcpy(b.data + b.size - 6, "100", 3); /* maxval 255 -> 100, before "\n" and 2 bytes */
        break;
    }
    case 21: buf_str(&b, "P3 2 1 255 1 2 3 4 5"); break;
    case 22: buf_str(&b, "P2 2 1 255 1 x"); break;
    case 23: b = make_pnm(3, 2, 3, 255, rgb), o->channels = 2; break;
    case 24: b = make_pnm(3, 2, 3, 255, rgb), o->height = 0, o->width = 5; break;
    case 25: b = make_pnm(3, 2, 3, 255, rgb), o->height = -2, o->width = -2; break;
    case 26: b = make_pnm(3, 2, 3, 255, rgb), o->height = 40000, o->width = 1; break;
    case 27: b = make_pnm(3, 2, 3, 255, rgb), o->height = 8000, o->width = 8000; break;
    case 28: b = make_pnm(3, 2, 3, 255, rgb), o->std[1] = 0.0f; break;
    case 29: b = make_pnm(3, 2, 3, 255, rgb), o->std[2] = -1.0f; break;
    case 30: b = make_pnm(3, 2, 3, 255, rgb), o->mean[0] = NAN; break;
    default: ck_abort_msg("no row %d", row);
    }
    return b;
}

START_TEST(test_bad_images) {
    const bad_image *row = &bad_images[_i];
    sv_image_options o;
    buffer b = bad_image_input(_i, &o);
    sv_message msg = {{0}};
    sv_io_array a = untouched_array();
    sv_status st = sv_image_read_memory(b.data, b.size, &o, &a, &msg);
    ck_assert_msg(st == row->status, "%s: expected %s, got %s (%s)", row->what,
                  sv_status_name(row->status), sv_status_name(st), msg.text);
    ck_assert_msg(strstr(msg.text, row->phrase) != NULL, "%s: message '%s' lacks '%s'", row->what,
                  msg.text, row->phrase);
    assert_untouched(&a, row->what);
    free(b.data);
}
END_TEST

/* Every prefix of each valid image, in a buffer of exactly that size: a clean refusal with a
 * message, or, where the decoder may accept a cut stream (a PNG cut only in its closing IEND
 * chunk, a JPEG anywhere), a well-formed output: for the PNG, the same as the whole file's. */
START_TEST(test_image_every_truncation) {
    const int rgb[18] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
    buffer images[4];
    images[0] = make_pnm(3, 2, 3, 255, rgb);
    images[1] = make_png(3, 2, 8, 2, rgb, NULL, 0);
    images[2] = read_fixture("rgb_4x3.png");
    images[3] = read_fixture("solid_16x8.jpg");
    sv_image_options o = sv_image_options_imagenet(5, 4);
    for (int k = 0; k < 4; k++) {
        sv_io_array whole = read_image(&images[k], &o, "whole image");
        for (size_t len = 0; len < images[k].size; len++) {
            unsigned char *cut = malloc(len ? len : 1);
            ck_assert_ptr_nonnull(cut);
            memcpy(cut, images[k].data, len);
            sv_message msg = {{0}};
            sv_io_array a = untouched_array();
            sv_status st = sv_image_read_memory(cut, len, &o, &a, &msg);
            if (st == SV_OK) {
                const int png_iend = (k == 1 || k == 2) && len >= images[k].size - 12;
                ck_assert_msg(k == 3 || png_iend, "image %d cut at %zu accepted", k, len);
                ck_assert_int_eq(a.count, 3 * 5 * 4);
                if (png_iend)
                    ck_assert(memcmp(a.data, whole.data, 60 * sizeof(float)) == 0);
                sv_io_array_free(&a);
            } else {
                ck_assert_msg(msg.text[0] != '\0', "image %d cut at %zu: no message", k, len);
                assert_untouched(&a, "image truncation");
            }
            free(cut);
        }
        sv_io_array_free(&whole);
        free(images[k].data);
    }
}
END_TEST

START_TEST(test_image_files) {
    const int rgb[6] = {0, 128, 255, 64, 32, 16};
    buffer ppm = make_pnm(2, 1, 3, 255, rgb);
    make_temp_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/x.ppm", temp_dir);
    write_bytes(path, ppm.data, ppm.size);
    sv_image_options o = sv_image_options_default(0, 0, 3);
    sv_message msg = {{0}};
    sv_io_array a = untouched_array();
    ck_assert_int_eq(sv_image_read_file(path, &o, &a, &msg), SV_OK);
    assert_exact(&a, 2, 1, 3, rgb, 3, 255.0, "file");
    sv_io_array_free(&a);

    /* errors name the file */
    a = untouched_array();
    o.channels = 4;
    ck_assert_int_eq(sv_image_read_file(path, &o, &a, &msg), SV_INVALID_ARGUMENT);
    ck_assert_msg(strstr(msg.text, path) == msg.text && strstr(msg.text, "4 channels"), "%s",
                  msg.text);
    o.channels = 3;
    snprintf(path, sizeof path, "%s/missing.png", temp_dir);
    ck_assert_int_eq(sv_image_read_file(path, &o, &a, &msg), SV_IO);
    ck_assert_msg(strstr(msg.text, "No such file"), "%s", msg.text);
    ck_assert_int_eq(sv_image_read_file(temp_dir, &o, &a, &msg), SV_IO);
    assert_untouched(&a, "image file errors");
    ck_assert_int_eq(sv_image_read_file(NULL, &o, &a, &msg), SV_INVALID_ARGUMENT);
    ck_assert_int_eq(sv_image_read_memory(ppm.data, ppm.size, NULL, &a, &msg), SV_INVALID_ARGUMENT);
    remove_temp_dir();
    free(ppm.data);
}
END_TEST

static Suite *io_suite(void) {
    Suite *s = suite_create("io");
    TCase *npy = test_add_case(s, "npy", 60);
    tcase_add_loop_test(npy, test_npy_round_trip, 0, SV_MAX_RANK + 1);
    tcase_add_test(npy, test_npy_numpy_files);
    tcase_add_loop_test(npy, test_npy_variants, 0, TEST_COUNT_OF(variants));
    TCase *npy_bad = test_add_case(s, "npy invalid", 60);
    tcase_add_loop_test(npy_bad, test_npy_bad_inputs, 0, TEST_COUNT_OF(bad_npys));
    tcase_add_test(npy_bad, test_npy_every_truncation);
    tcase_add_test(npy_bad, test_npy_random_corruption);
    tcase_add_test(npy_bad, test_npy_file_and_argument_errors);
    TCase *image = test_add_case(s, "image", 60);
    tcase_add_test(image, test_pnm_exact);
    tcase_add_test(image, test_png_exact);
    tcase_add_test(image, test_image_fixtures);
    tcase_add_test(image, test_luminance_and_normalisation);
    tcase_add_test(image, test_bilinear_by_hand);
    tcase_add_test(image, test_resize_properties);
    tcase_add_test(image, test_image_files);
    TCase *image_bad = test_add_case(s, "image invalid", 60);
    tcase_add_loop_test(image_bad, test_bad_images, 0, TEST_COUNT_OF(bad_images));
    tcase_add_test(image_bad, test_image_every_truncation);
    return s;
}

TEST_MAIN(io_suite)
