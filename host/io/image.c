/* Images to float32 NCHW arrays: PNG and JPEG decoded by stb_image (Debian's libstb, which holds
 * the implementation), PPM/PGM decoded here; then channel selection, bilinear resize with
 * half-pixel centres and per-channel normalisation. Sizes are checked against the limits in io.h
 * from the image's header, before its pixels are decoded. */
#include "io/io.h"

#include "core/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

sv_image_options sv_image_options_default(int height, int width, int channels) {
    sv_image_options o;
    memset(&o, 0, sizeof o);
    o.height = height;
    o.width = width;
    o.channels = channels;
    for (int c = 0; c < 3; c++) {
        o.mean[c] = 0.0f;
        o.std[c] = 1.0f;
    }
    return o;
}

sv_image_options sv_image_options_imagenet(int height, int width) {
    sv_image_options o = sv_image_options_default(height, width, 3);
    const float mean[3] = {SV_IMAGENET_MEAN_R, SV_IMAGENET_MEAN_G, SV_IMAGENET_MEAN_B};
    const float std[3] = {SV_IMAGENET_STD_R, SV_IMAGENET_STD_G, SV_IMAGENET_STD_B};
    memcpy(o.mean, mean, sizeof mean);
    memcpy(o.std, std, sizeof std);
    return o;
}

static sv_status check_options(const sv_image_options *o, sv_message *err) {
    if (o->channels != 1 && o->channels != 3)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "image: %d channels requested; 1 (grey) and 3 (RGB) are supported",
                               o->channels);
    if (o->height < 0 || o->width < 0 || (o->height == 0) != (o->width == 0))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "image: output size %d x %d: give a positive height and width, or "
                               "0 x 0 for the image's own size",
                               o->height, o->width);
    if (o->height > SV_IMAGE_MAX_SIDE || o->width > SV_IMAGE_MAX_SIDE ||
        (int64_t)o->height * o->width > SV_IMAGE_MAX_PIXELS)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "image: output size %d x %d exceeds the limit of %d per side and "
                               "%lld pixels",
                               o->height, o->width, SV_IMAGE_MAX_SIDE,
                               (long long)SV_IMAGE_MAX_PIXELS);
    for (int c = 0; c < o->channels; c++) {
        if (!isfinite(o->mean[c]))
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "image: mean[%d] = %g is not finite",
                                   c, (double)o->mean[c]);
        if (!isfinite(o->std[c]) || !(o->std[c] > 0.0f))
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "image: std[%d] = %g must be finite and > 0", c,
                                   (double)o->std[c]);
    }
    return SV_OK;
}

/* Decoded samples, interleaved: channels 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA), each
 * sample 0..maxval, 8-bit or 16-bit. */
typedef struct raw_image {
    int width, height, channels;
    int wide; /* samples are uint16_t, else unsigned char */
    double maxval;
    void *pixels;
    int from_stb; /* release with stbi_image_free, else free */
} raw_image;

static void raw_release(raw_image *r) {
    if (r->from_stb)
        stbi_image_free(r->pixels);
    else
        free(r->pixels);
    r->pixels = NULL;
}

static sv_status check_image_size(long long width, long long height, const char *format,
                                  sv_message *err) {
    if (width < 1 || height < 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "image: %s of %lld x %lld pixels has a zero width or height", format,
                               width, height);
    if (width > SV_IMAGE_MAX_SIDE || height > SV_IMAGE_MAX_SIDE ||
        width * height > SV_IMAGE_MAX_PIXELS)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "image: %s of %lld x %lld pixels exceeds the limit of %d per side "
                               "and %lld pixels",
                               format, width, height, SV_IMAGE_MAX_SIDE,
                               (long long)SV_IMAGE_MAX_PIXELS);
    return SV_OK;
}

/* The size and sample depth of a PNG from its IHDR, which must be the first chunk. */
static int png_header(const unsigned char *b, size_t size, long long *width, long long *height,
                      int *depth) {
    if (size < 8 + 8 + 13 || memcmp(b + 8, "\0\0\0\x0dIHDR", 8) != 0)
        return 0;
    *width = (long long)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
    *height = (long long)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
    *depth = b[24];
    return 1;
}

/* The size of a JPEG from its frame header (SOF0..SOF15), found by walking the marker segments
 * that precede it. */
static int jpeg_header(const unsigned char *b, size_t size, long long *width, long long *height) {
    size_t i = 2; /* after SOI */
    for (;;) {
        if (i >= size || b[i] != 0xff)
            return 0;
        while (i < size && b[i] == 0xff) /* fill bytes */
            i++;
        if (i >= size)
            return 0;
        const int marker = b[i++];
        if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8))
            continue; /* no length: TEM, RSTn, SOI */
        if (marker == 0xd9 || marker == 0xda)
            return 0; /* EOI or the scan before any frame header */
        if (size - i < 2)
            return 0;
        const size_t len = (size_t)b[i] << 8 | b[i + 1];
        if (len < 2 || size - i < len)
            return 0;
        if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
            marker != 0xcc) {
            if (len < 7)
                return 0;
            *height = (long long)b[i + 3] << 8 | b[i + 4];
            *width = (long long)b[i + 5] << 8 | b[i + 6];
            return 1;
        }
        i += len;
    }
}

static sv_status stb_failure(const char *format, sv_message *err) {
    const char *reason = stbi_failure_reason();
    if (!reason)
        reason = "unknown reason";
    return sv_fail_message(err,
                           strcmp(reason, "outofmem") == 0 ? SV_OUT_OF_MEMORY : SV_INVALID_ARGUMENT,
                           "image: cannot decode %s: %s (stb_image)", format, reason);
}

/* PNG and JPEG: the size from the header, checked against the limits, before stb_image
 * allocates anything for the pixels; 16-bit samples where the PNG has them. (stbi_info is not
 * used: on failure it tries every format and leaves the last one's reason.) */
static sv_status decode_stb(const unsigned char *bytes, size_t size, int png, raw_image *r,
                            sv_message *err) {
    const char *format = png ? "PNG" : "JPEG";
    long long width = 0, height = 0;
    int depth = 8;
    const int found = png ? png_header(bytes, size, &width, &height, &depth)
                          : jpeg_header(bytes, size, &width, &height);
    if (!found)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "image: cannot decode %s: %s", format,
                               png ? "no IHDR chunk after the signature"
                                   : "truncated or malformed before its frame header");
    sv_status st = check_image_size(width, height, format, err);
    if (st != SV_OK)
        return st;
    const int len = (int)size; /* size <= SV_IMAGE_MAX_FILE_BYTES < INT_MAX */
    const int wide = png && depth == 16;
    stbi_set_flip_vertically_on_load_thread(0); /* whatever the process-wide setting is */
    int w, h, n;
    void *pixels = wide ? (void *)stbi_load_16_from_memory(bytes, len, &w, &h, &n, 0)
                        : (void *)stbi_load_from_memory(bytes, len, &w, &h, &n, 0);
    if (!pixels)
        return stb_failure(format, err);
    if (w != width || h != height || n < 1 || n > 4) {
        stbi_image_free(pixels);
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "image: %s decoded as %d x %d x %d, its header says %lld x %lld",
                               format, w, h, n, width, height);
    }
    r->width = w;
    r->height = h;
    r->channels = n;
    r->wide = wide;
    r->maxval = wide ? 65535.0 : 255.0;
    r->pixels = pixels;
    r->from_stb = 1;
    return SV_OK;
}

/* ---- PPM/PGM (netpbm): P2/P3 plain, P5/P6 binary ---------------------------------------- */

static int pnm_space(int ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Skips whitespace and '#' comments (to the end of the line); returns whether it moved. */
static int pnm_skip(const unsigned char *b, size_t size, size_t *i) {
    const size_t start = *i;
    while (*i < size) {
        if (pnm_space(b[*i])) {
            (*i)++;
        } else if (b[*i] == '#') {
            while (*i < size && b[*i] != '\n' && b[*i] != '\r')
                (*i)++;
        } else {
            break;
        }
    }
    return *i != start;
}

/* A decimal number of at most 9 digits. Returns 1 on success, 0 when no digit is at *i, 2 when
 * the number is longer (then *value is its first 9 digits). */
static int pnm_number(const unsigned char *b, size_t size, size_t *i, long *value) {
    if (*i >= size || b[*i] < '0' || b[*i] > '9')
        return 0;
    long v = 0;
    int digits = 0;
    while (*i < size && b[*i] >= '0' && b[*i] <= '9') {
        if (digits < 9)
            v = v * 10 + (b[*i] - '0');
        digits++;
        (*i)++;
    }
    *value = v;
    return digits > 9 ? 2 : 1;
}

static sv_status decode_pnm(const unsigned char *b, size_t size, raw_image *r, sv_message *err) {
    const int kind = b[1];
    const int channels = (kind == '3' || kind == '6') ? 3 : 1;
    const int plain = kind == '2' || kind == '3';
    const char *format = channels == 3 ? "PPM" : "PGM";
    static const char *const fields[3] = {"width", "height", "maxval"};
    long header[3];
    size_t i = 2;
    for (int k = 0; k < 3; k++) {
        const int separated = pnm_skip(b, size, &i);
        if (i >= size)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "image: truncated %s header: no %s",
                                   format, fields[k]);
        const size_t at = i;
        const int got = separated ? pnm_number(b, size, &i, &header[k]) : 0;
        if (got == 0)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "image: malformed %s header at byte %zu: expected whitespace "
                                   "then the %s",
                                   format, i, fields[k]);
        if (got == 2)
            return sv_fail_message(err, k < 2 ? SV_UNSUPPORTED : SV_INVALID_ARGUMENT,
                                   "image: %s %s %.*s%s is too large", format, fields[k],
                                   (int)(i - at > 20 ? 20 : i - at), (const char *)b + at,
                                   i - at > 20 ? "..." : "");
    }
    const long width = header[0], height = header[1], maxval = header[2];
    sv_status st = check_image_size(width, height, format, err);
    if (st != SV_OK)
        return st;
    if (maxval < 1 || maxval > 65535)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "image: %s maxval %ld is outside 1..65535",
                               format, maxval);
    if (i >= size || !pnm_space(b[i]))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "image: %s header must end in one whitespace character after "
                               "maxval",
                               format);
    i++;

    const size_t count = (size_t)width * (size_t)height * (size_t)channels;
    uint16_t *samples = malloc(count * sizeof *samples);
    if (!samples)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "image: out of memory for %zu samples",
                               count);
    const size_t width_bytes = maxval < 256 ? 1 : 2;
    if (!plain && size - i < count * width_bytes) {
        free(samples);
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "image: truncated %s: the raster needs %zu bytes, %zu present",
                               format, count * width_bytes, size - i);
    }
    for (size_t s = 0; s < count; s++) {
        long v;
        if (plain) {
            while (i < size && pnm_space(b[i]))
                i++;
            if (i >= size) {
                free(samples);
                return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                       "image: truncated %s: %zu of %zu samples present", format, s,
                                       count);
            }
            if (!pnm_number(b, size, &i, &v) || (i < size && !pnm_space(b[i]))) {
                free(samples);
                return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                       "image: malformed %s raster at byte %zu: expected a "
                                       "decimal sample",
                                       format, i);
            }
        } else if (width_bytes == 1) {
            v = b[i++];
        } else {
            v = (long)b[i] << 8 | b[i + 1]; /* big-endian, as netpbm specifies */
            i += 2;
        }
        if (v > maxval) {
            free(samples);
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "image: %s sample %ld at index %zu exceeds maxval %ld", format,
                                   v, s, maxval);
        }
        samples[s] = (uint16_t)v;
    }
    r->width = (int)width;
    r->height = (int)height;
    r->channels = channels;
    r->wide = 1;
    r->maxval = (double)maxval;
    r->pixels = samples;
    r->from_stb = 0;
    return SV_OK;
}

/* ---- pixels to the output ------------------------------------------------------------------ */

static double sample_at(const raw_image *r, size_t index) {
    return r->wide ? (double)((const uint16_t *)r->pixels)[index]
                   : (double)((const unsigned char *)r->pixels)[index];
}

/* Planar [channels][height][width] samples in [0, 1]: grey copied or colour turned to luminance
 * as the output needs; alpha never read. */
static void to_planes(const raw_image *r, int channels, float *planes) {
    const size_t pixels = (size_t)r->width * (size_t)r->height;
    for (size_t p = 0; p < pixels; p++) {
        const size_t at = p * (size_t)r->channels;
        if (r->channels <= 2) {
            const float grey = (float)(sample_at(r, at) / r->maxval);
            for (int c = 0; c < channels; c++)
                planes[(size_t)c * pixels + p] = grey;
        } else if (channels == 3) {
            for (int c = 0; c < 3; c++)
                planes[(size_t)c * pixels + p] = (float)(sample_at(r, at + (size_t)c) / r->maxval);
        } else {
            const double y = 0.299 * sample_at(r, at) + 0.587 * sample_at(r, at + 1) +
                             0.114 * sample_at(r, at + 2);
            planes[p] = (float)(y / r->maxval);
        }
    }
}

/* Source neighbours and weight of output index `o` along an axis of in -> out samples with
 * half-pixel centres: s = (o + 0.5) * in / out - 0.5, clamped below at 0. */
typedef struct tap {
    int i0, i1;
    double frac;
} tap;

static void axis_taps(int in, int out, tap *taps) {
    const double scale = (double)in / (double)out;
    for (int o = 0; o < out; o++) {
        double s = ((double)o + 0.5) * scale - 0.5;
        if (s < 0.0)
            s = 0.0;
        int i = (int)s;
        if (i > in - 1)
            i = in - 1;
        taps[o].i0 = i;
        taps[o].i1 = i < in - 1 ? i + 1 : i;
        taps[o].frac = s - (double)i;
    }
}

static void resize_plane(const float *src, int iw, float *dst, int oh, int ow, const tap *ty,
                         const tap *tx) {
    for (int y = 0; y < oh; y++) {
        const float *r0 = src + (size_t)ty[y].i0 * (size_t)iw;
        const float *r1 = src + (size_t)ty[y].i1 * (size_t)iw;
        const double fy = ty[y].frac;
        for (int x = 0; x < ow; x++) {
            const double fx = tx[x].frac;
            const double top = (1.0 - fx) * r0[tx[x].i0] + fx * r0[tx[x].i1];
            const double bottom = (1.0 - fx) * r1[tx[x].i0] + fx * r1[tx[x].i1];
            dst[(size_t)y * (size_t)ow + (size_t)x] = (float)((1.0 - fy) * top + fy * bottom);
        }
    }
}

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

sv_status sv_image_read_memory(const void *bytes, size_t size, const sv_image_options *options,
                               sv_io_array *out, sv_message *err) {
    if ((!bytes && size) || !options || !out)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "image: NULL buffer, options or output");
    sv_status st = check_options(options, err);
    if (st != SV_OK)
        return st;
    if (size == 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "image: empty input (0 bytes)");
    if (size > SV_IMAGE_MAX_FILE_BYTES)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "image: %zu bytes exceed the limit of %zu bytes", size,
                               (size_t)SV_IMAGE_MAX_FILE_BYTES);
    const unsigned char *b = bytes;
    raw_image raw;
    memset(&raw, 0, sizeof raw);
    if (size >= sizeof png_signature && memcmp(b, png_signature, sizeof png_signature) == 0) {
        st = decode_stb(b, size, 1, &raw, err);
    } else if (size >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) {
        st = decode_stb(b, size, 0, &raw, err);
    } else if (size >= 2 && b[0] == 'P' &&
               (b[1] == '2' || b[1] == '3' || b[1] == '5' || b[1] == '6')) {
        st = decode_pnm(b, size, &raw, err);
    } else {
        unsigned char head[4] = {0};
        memcpy(head, b, size < 4 ? size : 4);
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "image: unsupported image format: not PNG, JPEG or PPM/PGM "
                               "(P2, P3, P5, P6); it starts with %02x %02x %02x %02x",
                               head[0], head[1], head[2], head[3]);
    }
    if (st != SV_OK)
        return st;

    const int channels = options->channels;
    const int ih = raw.height, iw = raw.width;
    const int oh = options->height ? options->height : ih;
    const int ow = options->width ? options->width : iw;
    const size_t in_plane = (size_t)ih * (size_t)iw, out_plane = (size_t)oh * (size_t)ow;
    float *planes = malloc((size_t)channels * in_plane * sizeof *planes);
    float *data = malloc((size_t)channels * out_plane * sizeof *data);
    tap *taps = malloc((size_t)(oh + ow) * sizeof *taps);
    if (!planes || !data || !taps) {
        raw_release(&raw);
        free(planes), free(data), free(taps);
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "image: out of memory for %d x %d x %d",
                               channels, oh, ow);
    }
    to_planes(&raw, channels, planes);
    raw_release(&raw);
    const int identity = oh == ih && ow == iw;
    if (!identity) {
        axis_taps(ih, oh, taps);
        axis_taps(iw, ow, taps + oh);
    }
    for (int c = 0; c < channels; c++) {
        const float *src = planes + (size_t)c * in_plane;
        float *dst = data + (size_t)c * out_plane;
        if (identity)
            memcpy(dst, src, in_plane * sizeof *dst);
        else
            resize_plane(src, iw, dst, oh, ow, taps, taps + oh);
        const double mean = options->mean[c], std = options->std[c];
        for (size_t k = 0; k < out_plane; k++)
            dst[k] = (float)(((double)dst[k] - mean) / std);
    }
    free(planes);
    free(taps);
    out->data = data;
    out->rank = 4;
    out->dims[0] = 1;
    out->dims[1] = channels;
    out->dims[2] = oh;
    out->dims[3] = ow;
    out->dims[4] = 1;
    out->count = (int64_t)channels * oh * ow;
    return SV_OK;
}

sv_status sv_image_read_file(const char *path, const sv_image_options *options, sv_io_array *out,
                             sv_message *err) {
    if (!path || !options || !out)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "image: NULL path, options or output");
    unsigned char *bytes;
    size_t size;
    sv_status st = sv_io_read_file(path, SV_IMAGE_MAX_FILE_BYTES, &bytes, &size, err);
    if (st != SV_OK)
        return st;
    sv_message msg;
    st = sv_image_read_memory(bytes, size, options, out, &msg);
    free(bytes);
    if (st != SV_OK)
        return sv_fail_message(err, st, "%s: %s", path, msg.text);
    return SV_OK;
}
