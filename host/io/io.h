/* Host input/output: NumPy .npy files and images (PNG, JPEG, PPM/PGM) to and from float32 host
 * arrays. Library-internal; self-contained (only svertka.h), so tests and the command can include
 * it directly.
 *
 * Every input is untrusted: sizes and overflows are checked before anything is allocated or read.
 * A .npy array is allocated only once the bytes backing its shape are known to be there; an image
 * is allocated from the size its header claims only within the pixel limits below.
 *
 * Like the rest of the library these calls never print; on failure they return a status, leave
 * their out-parameters untouched and write a message into `err` (which may be NULL).
 *
 * Statuses:
 *   SV_INVALID_ARGUMENT  a NULL argument, bad options, or malformed content (bad magic, bad
 *                        header, truncated or over-long data, negative or overflowing shape)
 *   SV_UNSUPPORTED       well-formed content this layer does not read (a dtype other than
 *                        float32/float64, a .npy version other than 1.0/2.0/3.0, rank > 5, an
 *                        empty array, an image format other than PNG/JPEG/PPM/PGM, an image or
 *                        output size over the limits below)
 *   SV_IO                the operating system failed (open, read, write, rename)
 *   SV_OUT_OF_MEMORY     an allocation failed
 *
 * These calls may run concurrently on different data: stb_image's failure string is thread-local
 * in Debian's build, and its vertical-flip setting is forced off for the calling thread (with
 * stbi_set_flip_vertically_on_load_thread, which stays in effect for stb_image on that thread). */
#ifndef SV_IO_H
#define SV_IO_H

#include "svertka.h"

#include <stddef.h>
#include <stdint.h>

/* A dense float32 array in C order (the last dimension varies fastest), owned by the caller. */
typedef struct sv_io_array {
    float *data;               /* malloc'd; release with sv_io_array_free */
    int rank;                  /* 0..SV_MAX_RANK; 0 is a scalar (shape ()), holding one element */
    int64_t dims[SV_MAX_RANK]; /* dims[i] >= 1 for i < rank; 1 beyond rank */
    int64_t count;             /* product of dims[0..rank): >= 1 */
} sv_io_array;

/* Frees the data and resets the array to empty. NULL is ignored. */
void sv_io_array_free(sv_io_array *array);

/* Reads a whole file into a malloc'd buffer (one spare zero byte after the end, so that `*bytes`
 * is never NULL on success). Files over max_bytes are refused with SV_UNSUPPORTED before they
 * are read when their size is known, else as soon as the bytes read pass it. */
sv_status sv_io_read_file(const char *path, size_t max_bytes, unsigned char **bytes, size_t *size,
                          sv_message *err);

/* ---------------------------------------------------------------------------------------------
 * .npy (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html)
 *
 * Reading: format versions 1.0, 2.0 and 3.0. The header must be a Python dict literal with
 * exactly the keys 'descr', 'fortran_order' and 'shape' (in any order, single or double quotes,
 * an optional trailing comma), followed only by whitespace and ending in a newline; a one-element
 * shape needs its trailing comma, as in Python; integers may carry Python 2's 'L' suffix in
 * versions 1.0 and 2.0. dtypes: '<f4' and '>f4' (float32) and '<f8' and '>f8' (float64, rounded
 * to the nearest float32; a finite value beyond the float32 range is refused rather than turned
 * into an infinity) and '<i8' (int64: labels and indices, each value exact, |v| <= 2^24);
 * anything else is refused naming the dtype. fortran_order True is read and
 * transposed into C order, so the result is always C order. Rank 0..5; dimensions >= 1 (a zero
 * dimension, an empty array, is refused). The data must be exactly the shape's size: fewer bytes
 * ("truncated") and trailing bytes after it are both errors.
 * ------------------------------------------------------------------------------------------- */

/* Upper bound on a .npy file that sv_npy_read_file reads into memory. */
#define SV_NPY_MAX_FILE_BYTES (SIZE_MAX / 2)

/* Parses a .npy image held in memory. */
sv_status sv_npy_read_memory(const void *bytes, size_t size, sv_io_array *out, sv_message *err);
/* Reads a .npy file; messages start with the path. */
sv_status sv_npy_read_file(const char *path, sv_io_array *out, sv_message *err);

/* Encodes float32 data of the given shape (rank 0..5, dims >= 1; dims may be NULL for rank 0)
 * as a .npy file in memory: little-endian '<f4', C order, a version 1.0 header laid out
 * byte for byte as NumPy 1.24 writes it (the dict, spare room for the first dimension to grow
 * to 21 digits, spaces up to a multiple of 64 bytes, a newline). *bytes is malloc'd. */
sv_status sv_npy_encode(const float *data, int rank, const int64_t *dims, unsigned char **bytes,
                        size_t *size, sv_message *err);
/* Writes the encoding to `path`: into a new file beside it, closed and checked, then renamed
 * over `path`, so a reader never sees a partial file and a failure leaves no file behind. */
sv_status sv_npy_write_file(const char *path, const float *data, int rank, const int64_t *dims,
                            sv_message *err);

/* ---------------------------------------------------------------------------------------------
 * Images
 *
 * Formats, recognised by their signatures: PNG (8- and 16-bit, any colour type) and JPEG
 * (baseline and progressive) decoded by stb_image; PPM and PGM, binary (P6, P5) and plain
 * (P3, P2), with any maxval 1..65535, decoded here (stb_image ignores maxval and reads 16-bit
 * samples in host byte order). The first image of a multi-image PNM is read. JPEG EXIF
 * orientation is not applied.
 *
 * The output is a float32 NCHW array [1, C, H, W], C = options.channels:
 *   1. samples are scaled to [0, 1] (8-bit / 255, 16-bit / 65535, PNM / maxval);
 *   2. channels: grey is copied into R, G and B for C = 3; alpha is dropped (not composited);
 *      C = 1 takes grey as is, and colour as luminance 0.299 R + 0.587 G + 0.114 B (ITU-R 601,
 *      as PIL's "L" conversion, without its rounding to 8 bits);
 *   3. resize to H x W by bilinear interpolation with half-pixel centres and edge clamping:
 *      source = (dest + 0.5) * in / out - 0.5, clamped below at 0, neighbours clamped at the
 *      last pixel. This is torch.nn.functional.interpolate(mode="bilinear",
 *      align_corners=False, antialias=False), i.e. torchvision's Resize on tensors with
 *      antialias=False; PIL's bilinear agrees when enlarging but low-pass filters when
 *      shrinking. Computed in double on the [0, 1] samples, with no rounding to 8 bits in
 *      between. The image's own size is exact (a copy);
 *   4. per channel (x - mean[c]) / std[c].
 * ------------------------------------------------------------------------------------------- */

/* Limits on the decoded image and on the requested output: each side at most SV_IMAGE_MAX_SIDE
 * and at most SV_IMAGE_MAX_PIXELS pixels (an 8K UHD 7680 x 4320 image fits), so that no input
 * can make a call allocate more than about 1 GiB (decoded samples, float planes, output). */
#define SV_IMAGE_MAX_SIDE 32768
#define SV_IMAGE_MAX_PIXELS ((int64_t)1 << 25)
/* Image files larger than this are refused before decoding (stb_image takes an int length). */
#define SV_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

/* ImageNet normalisation (torchvision's models), per channel R, G, B. */
#define SV_IMAGENET_MEAN_R 0.485f
#define SV_IMAGENET_MEAN_G 0.456f
#define SV_IMAGENET_MEAN_B 0.406f
#define SV_IMAGENET_STD_R 0.229f
#define SV_IMAGENET_STD_G 0.224f
#define SV_IMAGENET_STD_B 0.225f

typedef struct sv_image_options {
    int height, width; /* output size, each 1..SV_IMAGE_MAX_SIDE; both 0: the image's own size */
    int channels;      /* 3 (RGB) or 1 (grey) */
    float mean[3];     /* per output channel; only [0] is used when channels is 1 */
    float std[3];      /* finite and > 0 */
} sv_image_options;

/* Options for a channels x height x width output with mean 0 and std 1 (samples in [0, 1]). */
sv_image_options sv_image_options_default(int height, int width, int channels);
/* Options for an RGB height x width output normalised with the ImageNet mean and std. */
sv_image_options sv_image_options_imagenet(int height, int width);

/* Decodes an image held in memory into *out (see above). */
sv_status sv_image_read_memory(const void *bytes, size_t size, const sv_image_options *options,
                               sv_io_array *out, sv_message *err);
/* Reads an image file; messages start with the path. */
sv_status sv_image_read_file(const char *path, const sv_image_options *options, sv_io_array *out,
                             sv_message *err);

#endif
