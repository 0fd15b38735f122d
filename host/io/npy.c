/* NumPy .npy files: a strict reader for float32/float64 arrays of rank 0..5 in format versions
 * 1.0-3.0, a writer of '<f4' version 1.0 files laid out as NumPy writes them, and the whole-file
 * reader the image decoder shares. Every length in the input is checked against the bytes that
 * are actually there before it is used. */
#include "io/io.h"

#include "core/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sv_io_array_free(sv_io_array *array) {
    if (!array)
        return;
    free(array->data);
    memset(array, 0, sizeof *array);
}

/* The system's text for an errno value (strerror is not thread-safe; this is the POSIX
 * strerror_r that returns int, as _POSIX_C_SOURCE selects). */
static void errno_text(int code, char *buf, size_t size) {
    if (strerror_r(code, buf, size) != 0)
        snprintf(buf, size, "error %d", code);
}

sv_status sv_io_read_file(const char *path, size_t max_bytes, unsigned char **bytes, size_t *size,
                          sv_message *err) {
    if (!path || !bytes || !size)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "read file: NULL path or output");
    if (max_bytes > SIZE_MAX / 2)
        max_bytes = SIZE_MAX / 2;
    char why[256];
    FILE *f = fopen(path, "rb");
    if (!f) {
        errno_text(errno, why, sizeof why);
        return sv_fail_message(err, SV_IO, "%s: cannot open: %s", path, why);
    }
    /* A regular file is read in one allocation of its size (+1 to see the end in the same read);
     * anything else (a pipe, a device) grows a buffer as bytes arrive. */
    size_t capacity = (size_t)1 << 16;
    struct stat st;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fclose(f);
            return sv_fail_message(err, SV_IO, "%s: is a directory", path);
        }
        if (S_ISREG(st.st_mode)) {
            if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)max_bytes) {
                fclose(f);
                return sv_fail_message(err, SV_UNSUPPORTED,
                                       "%s: file of %jd bytes exceeds the limit of %zu bytes", path,
                                       (intmax_t)st.st_size, max_bytes);
            }
            capacity = (size_t)st.st_size + 1;
        }
    }
    if (capacity > max_bytes + 1)
        capacity = max_bytes + 1;
    unsigned char *buf = malloc(capacity);
    if (!buf) {
        fclose(f);
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "%s: out of memory for %zu bytes", path,
                               capacity);
    }
    size_t used = 0;
    sv_status status = SV_OK;
    for (;;) {
        if (used == capacity) {
            if (used > max_bytes) {
                status =
                    sv_fail_message(err, SV_UNSUPPORTED, "%s: file exceeds the limit of %zu bytes",
                                    path, max_bytes);
                break;
            }
            size_t grown = capacity <= (max_bytes + 1) / 2 ? 2 * capacity : max_bytes + 1;
            unsigned char *bigger = realloc(buf, grown);
            if (!bigger) {
                status = sv_fail_message(err, SV_OUT_OF_MEMORY, "%s: out of memory for %zu bytes",
                                         path, grown);
                break;
            }
            buf = bigger;
            capacity = grown;
        }
        size_t n = fread(buf + used, 1, capacity - used, f);
        used += n;
        if (ferror(f)) {
            errno_text(errno, why, sizeof why);
            status = sv_fail_message(err, SV_IO, "%s: read error: %s", path, why);
            break;
        }
        if (feof(f))
            break; /* a short read: used < capacity, room for the spare byte */
    }
    fclose(f);
    if (status != SV_OK) {
        free(buf);
        return status;
    }
    buf[used] = 0;
    *bytes = buf;
    *size = used;
    return SV_OK;
}

/* ---- reading ------------------------------------------------------------------------------ */

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* '<i8' carries class labels and indices; it is read as float when every value is exact. */
typedef enum npy_dtype { NPY_F4_LE, NPY_F4_BE, NPY_F8_LE, NPY_F8_BE, NPY_I8_LE, NPY_DTYPES } npy_dtype;

static const char *const npy_dtype_names[NPY_DTYPES] = {"<f4", ">f4", "<f8", ">f8", "<i8"};

static size_t npy_itemsize(npy_dtype t) {
    return (t == NPY_F4_LE || t == NPY_F4_BE) ? 4 : 8;
}

typedef struct npy_header {
    int dtype;   /* npy_dtype, or -1 before the key is seen */
    int fortran; /* 0 or 1, or -1 before the key is seen */
    int rank;    /* -1 before the key is seen */
    int64_t dims[SV_MAX_RANK];
} npy_header;

/* A position in the header text, which is `n` bytes, not NUL-terminated. */
typedef struct cursor {
    const unsigned char *s;
    size_t n, i;
    int major; /* format version: Python 2's 'L' suffix is allowed before 3.0 */
    sv_message *err;
} cursor;

static int is_space(int ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static int is_digit(int ch) {
    return ch >= '0' && ch <= '9';
}

static int is_identifier_char(int ch) {
    return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static int peek(const cursor *c) {
    return c->i < c->n ? c->s[c->i] : -1;
}

static void skip_space(cursor *c) {
    while (c->i < c->n && is_space(c->s[c->i]))
        c->i++;
}

static int eat(cursor *c, int ch) {
    if (peek(c) != ch)
        return 0;
    c->i++;
    return 1;
}

static sv_status syntax_error(const cursor *c, const char *expected) {
    const int ch = peek(c);
    if (ch < 0)
        return sv_fail_message(c->err, SV_INVALID_ARGUMENT,
                               "npy: malformed header: expected %s, found the end of the header",
                               expected);
    if (ch >= 0x20 && ch < 0x7f)
        return sv_fail_message(c->err, SV_INVALID_ARGUMENT,
                               "npy: malformed header at byte %zu: expected %s, found '%c'", c->i,
                               expected, ch);
    return sv_fail_message(c->err, SV_INVALID_ARGUMENT,
                           "npy: malformed header at byte %zu: expected %s, found byte 0x%02x",
                           c->i, expected, (unsigned)ch);
}

/* A Python string literal in single or double quotes, printable ASCII without escapes, of at
 * most size - 1 characters, into buf. */
static sv_status parse_string(cursor *c, char *buf, size_t size, const char *expected) {
    const int quote = peek(c);
    if (quote != '\'' && quote != '"')
        return syntax_error(c, expected);
    c->i++;
    size_t len = 0;
    for (;;) {
        const int ch = peek(c);
        if (ch == quote)
            break;
        if (ch < 0x20 || ch >= 0x7f || ch == '\\')
            return syntax_error(c, "a printable character or the closing quote of a string");
        if (len + 1 >= size)
            return sv_fail_message(c->err, SV_INVALID_ARGUMENT,
                                   "npy: malformed header at byte %zu: string longer than %zu "
                                   "characters",
                                   c->i, size - 1);
        buf[len++] = (char)ch;
        c->i++;
    }
    c->i++;
    buf[len] = '\0';
    return SV_OK;
}

static sv_status parse_descr(cursor *c, npy_header *h) {
    if (peek(c) == '[')
        return sv_fail_message(c->err, SV_UNSUPPORTED,
                               "npy: unsupported dtype: structured arrays (a list descr) are not "
                               "read; only float32 ('<f4', '>f4'), float64 ('<f8', '>f8') and int64 ('<i8')");
    char descr[32];
    sv_status st = parse_string(c, descr, sizeof descr, "a dtype string for 'descr'");
    if (st != SV_OK)
        return st;
    for (int t = 0; t < NPY_DTYPES; t++)
        if (strcmp(descr, npy_dtype_names[t]) == 0) {
            h->dtype = t;
            return SV_OK;
        }
    return sv_fail_message(c->err, SV_UNSUPPORTED,
                           "npy: unsupported dtype '%s': only float32 ('<f4', '>f4'), float64 "
                           "('<f8', '>f8') and int64 ('<i8') are read",
                           descr);
}

static sv_status parse_bool(cursor *c, npy_header *h) {
    static const char *const words[2] = {"False", "True"};
    for (int v = 0; v < 2; v++) {
        const size_t len = strlen(words[v]);
        if (c->n - c->i >= len && memcmp(c->s + c->i, words[v], len) == 0 &&
            !(c->i + len < c->n && is_identifier_char(c->s[c->i + len]))) {
            c->i += len;
            h->fortran = v;
            return SV_OK;
        }
    }
    return syntax_error(c, "True or False for 'fortran_order'");
}

/* A tuple of non-negative decimal integers: "()", "(3,)", "(2, 3)", "(2, 3,)". */
static sv_status parse_shape(cursor *c, npy_header *h) {
    if (!eat(c, '('))
        return syntax_error(c, "'(' opening the tuple for 'shape'");
    skip_space(c);
    int rank = 0;
    if (eat(c, ')')) {
        h->rank = 0;
        return SV_OK;
    }
    for (;;) {
        const int negative = eat(c, '-');
        if (!is_digit(peek(c)))
            return syntax_error(c, "a non-negative integer in 'shape'");
        const size_t start = c->i;
        uint64_t value = 0;
        int too_large = 0;
        while (is_digit(peek(c))) {
            const unsigned digit = (unsigned)(c->s[c->i] - '0');
            if (value > ((uint64_t)INT64_MAX - digit) / 10)
                too_large = 1;
            else
                value = value * 10 + digit;
            c->i++;
        }
        const int digits = (int)(c->i - start > 40 ? 40 : c->i - start);
        if (negative)
            return sv_fail_message(c->err, SV_INVALID_ARGUMENT,
                                   "npy: negative dimension -%.*s in the shape", digits,
                                   (const char *)c->s + start);
        if (too_large)
            return sv_fail_message(c->err, SV_INVALID_ARGUMENT,
                                   "npy: dimension %.*s%s in the shape is too large", digits,
                                   (const char *)c->s + start, c->i - start > 40 ? "..." : "");
        if (c->major < 3)
            eat(c, 'L');
        if (rank < SV_MAX_RANK)
            h->dims[rank] = (int64_t)value;
        if (rank <= SV_MAX_RANK)
            rank++; /* counting stops at one past the limit: that is all the message needs */
        skip_space(c);
        if (eat(c, ',')) {
            skip_space(c);
            if (eat(c, ')'))
                break;
            continue;
        }
        if (eat(c, ')')) {
            if (rank == 1)
                return sv_fail_message(c->err, SV_INVALID_ARGUMENT,
                                       "npy: shape (%lld) is not a tuple: a one-element tuple "
                                       "needs a trailing comma",
                                       (long long)h->dims[0]);
            break;
        }
        return syntax_error(c, "',' or ')' in 'shape'");
    }
    if (rank > SV_MAX_RANK)
        return sv_fail_message(c->err, SV_UNSUPPORTED,
                               "npy: rank above the supported maximum of %d (the shape has more "
                               "than %d dimensions)",
                               SV_MAX_RANK, SV_MAX_RANK);
    h->rank = rank;
    return SV_OK;
}

/* The header dict: exactly the three keys, each once, then only whitespace, ending in '\n'. */
static sv_status parse_header(const unsigned char *text, size_t n, int major, npy_header *h,
                              sv_message *err) {
    cursor c = {text, n, 0, major, err};
    h->dtype = -1;
    h->fortran = -1;
    h->rank = -1;
    skip_space(&c);
    if (!eat(&c, '{'))
        return syntax_error(&c, "'{' opening the header dict");
    for (;;) {
        skip_space(&c);
        if (eat(&c, '}'))
            break;
        const size_t key_at = c.i;
        char key[32];
        sv_status st = parse_string(&c, key, sizeof key, "a quoted key or '}'");
        if (st != SV_OK)
            return st;
        skip_space(&c);
        if (!eat(&c, ':'))
            return syntax_error(&c, "':' after a key");
        skip_space(&c);
        int seen;
        if (strcmp(key, "descr") == 0) {
            seen = h->dtype >= 0;
            st = seen ? SV_OK : parse_descr(&c, h);
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = h->fortran >= 0;
            st = seen ? SV_OK : parse_bool(&c, h);
        } else if (strcmp(key, "shape") == 0) {
            seen = h->rank >= 0;
            st = seen ? SV_OK : parse_shape(&c, h);
        } else {
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "npy: unexpected key '%s' at byte %zu of the header (the keys "
                                   "are 'descr', 'fortran_order' and 'shape')",
                                   key, key_at);
        }
        if (seen)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "npy: duplicate key '%s' at byte %zu of the header", key,
                                   key_at);
        if (st != SV_OK)
            return st;
        skip_space(&c);
        if (eat(&c, ','))
            continue;
        if (eat(&c, '}'))
            break;
        return syntax_error(&c, "',' or '}' after a value");
    }
    skip_space(&c);
    if (c.i < n)
        return syntax_error(&c, "only whitespace after the header dict");
    if (n == 0 || text[n - 1] != '\n')
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "npy: the header is not terminated by a newline");
    if (h->dtype < 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "npy: the header lacks the 'descr' key");
    if (h->fortran < 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "npy: the header lacks the 'fortran_order' key");
    if (h->rank < 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "npy: the header lacks the 'shape' key");
    return SV_OK;
}

/* Element count of a parsed shape, refusing empty arrays and counts whose bytes (8 per float64
 * element) could not be addressed. */
static sv_status shape_count(const npy_header *h, int64_t *count, sv_message *err) {
    char shape[256];
    sv_dims_format(shape, sizeof shape, h->rank, h->dims);
    for (int i = 0; i < h->rank; i++)
        if (h->dims[i] == 0)
            return sv_fail_message(err, SV_UNSUPPORTED,
                                   "npy: shape %s is empty (a zero dimension); empty arrays are "
                                   "not supported",
                                   shape);
    int64_t limit = INT64_MAX / 8;
    if ((uint64_t)limit > SIZE_MAX / 8)
        limit = (int64_t)(SIZE_MAX / 8);
    int64_t n = 1;
    for (int i = 0; i < h->rank; i++) {
        if (n > limit / h->dims[i])
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "npy: shape %s has too many elements to address", shape);
        n *= h->dims[i];
    }
    *count = n;
    return SV_OK;
}

static uint64_t load_bytes(const unsigned char *p, size_t width, int big_endian) {
    uint64_t v = 0;
    for (size_t k = 0; k < width; k++)
        v |= (uint64_t)p[big_endian ? width - 1 - k : k] << (8 * k);
    return v;
}

static sv_status convert_data(const unsigned char *src, npy_dtype dtype, size_t count, float *dst,
                              sv_message *err) {
    const int big = dtype == NPY_F4_BE || dtype == NPY_F8_BE;
    if (npy_itemsize(dtype) == 4) {
        for (size_t i = 0; i < count; i++) {
            const uint32_t bits = (uint32_t)load_bytes(src + 4 * i, 4, big);
            memcpy(&dst[i], &bits, sizeof bits);
        }
        return SV_OK;
    }
    if (dtype == NPY_I8_LE) {
        for (size_t i = 0; i < count; i++) {
            const int64_t v = (int64_t)load_bytes(src + 8 * i, 8, 0);
            if (v > (INT64_C(1) << 24) || v < -(INT64_C(1) << 24))
                return sv_fail_message(err, SV_UNSUPPORTED,
                                       "npy: int64 value %lld at index %zu is not exact as float32 "
                                       "(|v| > 2^24)",
                                       (long long)v, i);
            dst[i] = (float)v;
        }
        return SV_OK;
    }
    for (size_t i = 0; i < count; i++) {
        const uint64_t bits = load_bytes(src + 8 * i, 8, big);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isfinite(d) && fabs(d) > FLT_MAX)
            return sv_fail_message(err, SV_UNSUPPORTED,
                                   "npy: float64 value %.17g at index %zu is outside the float32 "
                                   "range",
                                   d, i);
        dst[i] = (float)d; /* NaN and the infinities carry over */
    }
    return SV_OK;
}

/* Reorders column-major (Fortran) data into row-major order: walks the destination in C order
 * while keeping the source offset sum(i_k * fstride_k) up to date. */
static void fortran_to_c(const float *src, float *dst, int rank, const int64_t *dims,
                         int64_t count) {
    int64_t fstride[SV_MAX_RANK], idx[SV_MAX_RANK];
    for (int k = 0; k < rank; k++) {
        fstride[k] = k ? fstride[k - 1] * dims[k - 1] : 1;
        idx[k] = 0;
    }
    int64_t off = 0;
    for (int64_t n = 0; n < count; n++) {
        dst[n] = src[off];
        for (int k = rank - 1; k >= 0; k--) {
            off += fstride[k];
            if (++idx[k] < dims[k])
                break;
            off -= fstride[k] * dims[k];
            idx[k] = 0;
        }
    }
}

sv_status sv_npy_read_memory(const void *bytes, size_t size, sv_io_array *out, sv_message *err) {
    if (!out || (!bytes && size))
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "npy: NULL buffer or output");
    const unsigned char *b = bytes;
    const size_t magic_seen = size < sizeof npy_magic ? size : sizeof npy_magic;
    if (magic_seen > 0 && memcmp(b, npy_magic, magic_seen) != 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "npy: bad magic: not a .npy file (it must start with "
                               "\\x93NUMPY)");
    if (size < 8)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "npy: truncated header: %zu bytes, the magic and version need 8",
                               size);
    const int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "npy: format version %d.%d is not supported (1.0, 2.0 and 3.0 are)",
                               major, minor);
    const size_t length_bytes = major == 1 ? 2 : 4;
    const size_t preamble = 8 + length_bytes;
    if (size < preamble)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "npy: truncated header: %zu bytes, the version %d.0 preamble "
                               "needs %zu",
                               size, major, preamble);
    const uint64_t header_len = load_bytes(b + 8, length_bytes, 0);
    if (header_len > size - preamble)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "npy: header length %llu extends beyond the end of the file (%zu "
                               "bytes follow the preamble)",
                               (unsigned long long)header_len, size - preamble);
    npy_header h;
    sv_status st = parse_header(b + preamble, (size_t)header_len, major, &h, err);
    if (st != SV_OK)
        return st;
    int64_t count = 0;
    st = shape_count(&h, &count, err);
    if (st != SV_OK)
        return st;

    const size_t data_at = preamble + (size_t)header_len, present = size - data_at;
    const size_t needed = (size_t)count * npy_itemsize((npy_dtype)h.dtype);
    if (present < needed) {
        char shape[256];
        sv_dims_format(shape, sizeof shape, h.rank, h.dims);
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "npy: truncated data: shape %s of '%s' needs %zu bytes, %zu "
                               "present",
                               shape, npy_dtype_names[h.dtype], needed, present);
    }
    if (present > needed)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "npy: %zu trailing bytes after the %zu bytes of data",
                               present - needed, needed);

    float *data = malloc((size_t)count * sizeof *data);
    if (!data)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "npy: out of memory for %lld floats",
                               (long long)count);
    st = convert_data(b + data_at, (npy_dtype)h.dtype, (size_t)count, data, err);
    if (st != SV_OK) {
        free(data);
        return st;
    }
    if (h.fortran && h.rank > 1) {
        float *c_order = malloc((size_t)count * sizeof *c_order);
        if (!c_order) {
            free(data);
            return sv_fail_message(err, SV_OUT_OF_MEMORY, "npy: out of memory for %lld floats",
                                   (long long)count);
        }
        fortran_to_c(data, c_order, h.rank, h.dims, count);
        free(data);
        data = c_order;
    }
    out->data = data;
    out->rank = h.rank;
    for (int i = 0; i < SV_MAX_RANK; i++)
        out->dims[i] = i < h.rank ? h.dims[i] : 1;
    out->count = count;
    return SV_OK;
}

sv_status sv_npy_read_file(const char *path, sv_io_array *out, sv_message *err) {
    if (!path || !out)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "npy: NULL path or output");
    unsigned char *bytes;
    size_t size;
    sv_status st = sv_io_read_file(path, SV_NPY_MAX_FILE_BYTES, &bytes, &size, err);
    if (st != SV_OK)
        return st;
    sv_message msg;
    st = sv_npy_read_memory(bytes, size, out, &msg);
    free(bytes);
    if (st != SV_OK)
        return sv_fail_message(err, st, "%s: %s", path, msg.text);
    return SV_OK;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* NumPy's room for the first dimension to grow in place (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS)
 * and the alignment of the data (ARRAY_ALIGN). */
enum { NPY_GROWTH_DIGITS = 21, NPY_ALIGN = 64 };

sv_status sv_npy_encode(const float *data, int rank, const int64_t *dims, unsigned char **bytes,
                        size_t *size, sv_message *err) {
    if (!data || !bytes || !size || (rank > 0 && !dims))
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "npy: NULL data, dims or output");
    if (rank < 0 || rank > SV_MAX_RANK)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "npy: rank %d is outside 0..%d", rank,
                               SV_MAX_RANK);
    char shape[256];
    sv_dims_format(shape, sizeof shape, rank, dims);
    int64_t count = 1;
    const int64_t limit =
        INT64_MAX / 4 < (int64_t)(SIZE_MAX / 8) ? INT64_MAX / 4 : (int64_t)(SIZE_MAX / 8);
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 1)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "npy: shape %s has a dimension < 1",
                                   shape);
        if (count > limit / dims[i])
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "npy: shape %s has too many elements to address", shape);
        count *= dims[i];
    }

    /* The dict as NumPy's repr writes it, then the growth room after it. */
    char header[256];
    int len =
        snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < rank; i++)
        len += snprintf(header + len, sizeof header - (size_t)len, i ? ", %lld" : "%lld",
                        (long long)dims[i]);
    len += snprintf(header + len, sizeof header - (size_t)len, "%s), }", rank == 1 ? "," : "");
    if (rank > 0) {
        char first[32];
        const int digits = snprintf(first, sizeof first, "%lld", (long long)dims[0]);
        for (int k = digits; k < NPY_GROWTH_DIGITS; k++)
            header[len++] = ' ';
    }
    /* Spaces then a newline bring magic (6) + version (2) + length (2) + header to a multiple of
     * 64; like NumPy, a full 64 spaces when it is already aligned. */
    const size_t pad = NPY_ALIGN - (10 + (size_t)len + 1) % NPY_ALIGN;
    const size_t header_len = (size_t)len + pad + 1;
    const size_t data_bytes = (size_t)count * 4, total = 10 + header_len + data_bytes;
    unsigned char *buf = malloc(total);
    if (!buf)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "npy: out of memory for %zu bytes", total);
    memcpy(buf, npy_magic, sizeof npy_magic);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (unsigned char)(header_len & 0xff);
    buf[9] = (unsigned char)(header_len >> 8);
    memcpy(buf + 10, header, (size_t)len);
    memset(buf + 10 + len, ' ', pad);
    buf[10 + header_len - 1] = '\n';
    unsigned char *p = buf + 10 + header_len;
    for (int64_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &data[i], sizeof bits);
        for (int k = 0; k < 4; k++)
            *p++ = (unsigned char)(bits >> (8 * k));
    }
    *bytes = buf;
    *size = total;
    return SV_OK;
}

/* Writes bytes into a new file beside `path` and renames it over `path`. */
static sv_status write_replacing(const char *path, const unsigned char *bytes, size_t size,
                                 sv_message *err) {
    const size_t tmp_size = strlen(path) + 64;
    char *tmp = malloc(tmp_size);
    if (!tmp)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "%s: out of memory", path);
    char why[256];
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, tmp_size, "%s.%ld-%d.tmp", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        errno_text(errno, why, sizeof why);
        sv_status st = sv_fail_message(err, SV_IO, "%s: cannot create %s: %s", path, tmp, why);
        free(tmp);
        return st;
    }
    const char *failed = NULL;
    size_t done = 0;
    while (done < size) {
        size_t chunk = size - done;
        if (chunk > ((size_t)1 << 30))
            chunk = (size_t)1 << 30;
        const ssize_t n = write(fd, bytes + done, chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* no progress and no reason given */
            failed = "write";
            break;
        }
        done += (size_t)n;
    }
    int code = errno;
    if (close(fd) != 0 && !failed) {
        code = errno;
        failed = "close";
    }
    if (!failed && rename(tmp, path) != 0) {
        code = errno;
        failed = "rename";
    }
    sv_status st = SV_OK;
    if (failed) {
        errno_text(code, why, sizeof why);
        st = sv_fail_message(err, SV_IO, "%s: %s failed: %s", path, failed, why);
        unlink(tmp);
    }
    free(tmp);
    return st;
}

sv_status sv_npy_write_file(const char *path, const float *data, int rank, const int64_t *dims,
                            sv_message *err) {
    if (!path)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "npy: NULL path");
    unsigned char *bytes;
    size_t size;
    sv_status st = sv_npy_encode(data, rank, dims, &bytes, &size, err);
    if (st != SV_OK)
        return st;
    st = write_replacing(path, bytes, size, err);
    free(bytes);
    return st;
}
