/* The tuning database: the fastest convolution algorithm and variant per convolution shape, as
 * `svertka tune` measured them on one device. One text file per (device name, driver version,
 * library version), in the user's cache directory:
 *
 *   svertka-tuning 2
 *   device <device name>
 *   driver <driver version>
 *   library <major.minor.patch>
 *   conv <19 shape integers> <algorithm name> <variant> <milliseconds>
 *   ...
 *
 * The shape integers are the sv_conv_tuning_key fields in order. Lines starting with '#' are
 * comments. The file is untrusted input: a file whose header does not name this device, driver
 * and library is ignored, and so is any malformed or out-of-range entry line. */
#ifndef SV_CONV_TUNING_H
#define SV_CONV_TUNING_H

#include "ops/conv_algorithm.h"

#include <stdio.h>

/* What the timing of a convolution depends on: its geometry, padding mode and fused pooling (not
 * the activation, not the weights' values). */
enum { SV_TUNING_KEY_FIELDS = 19 };
/* The format's version: 2 added max_pool_2x2 to the key; a file of another version is ignored. */
#define SV_TUNING_FORMAT "2"
typedef struct sv_conv_tuning_key {
    int v[SV_TUNING_KEY_FIELDS]; /* spatial_dims, n, c, h, w, k, oh, ow, kh, kw, sh, sw, dh, dw,
                                    ph, pw, groups, pad_mode, max_pool_2x2 */
} sv_conv_tuning_key;

sv_conv_tuning_key sv_conv_tuning_key_of(const sv_conv_params *p, const sv_conv_geometry *g);

typedef struct sv_tuning_entry {
    sv_conv_tuning_key key;
    sv_conv_choice choice;
    double ms;
} sv_tuning_entry;

typedef struct sv_tuning_db {
    char device[256], driver[128], library[32];
    sv_tuning_entry *entries;
    size_t count, capacity;
} sv_tuning_db;

/* Files larger than this are not read (a database of every layer of many models is far
 * smaller); lines longer than SV_TUNING_MAX_LINE are malformed. */
#define SV_TUNING_MAX_BYTES (16 << 20)
#define SV_TUNING_MAX_LINE 1024

/* An empty database for the context's device. */
void sv_tuning_db_init(sv_tuning_db *db, const sv_device_info *device);
void sv_tuning_db_free(sv_tuning_db *db);
/* Adds entries parsed from text (size bytes, not NUL-terminated) whose header names db's
 * device, driver and library; returns the number added, or -1 when the header does not match
 * or is malformed (nothing added). Never fails otherwise: bad lines are skipped. */
long sv_tuning_db_parse(sv_tuning_db *db, const char *text, size_t size);
/* The choice for a key, or NULL. */
const sv_tuning_entry *sv_tuning_db_find(const sv_tuning_db *db, const sv_conv_tuning_key *key);
/* Sets a key's choice (replacing an earlier one); SV_OUT_OF_MEMORY on failure. */
sv_status sv_tuning_db_put(sv_tuning_db *db, const sv_conv_tuning_key *key, sv_conv_choice choice,
                           double ms);
/* Writes the database as text. */
int sv_tuning_db_write(const sv_tuning_db *db, FILE *out);

/* The database file of a device: "<cache>/tuning/<hash of device, driver, library>.txt" where
 * the cache directory is the one sv_cache_dir names (created with `create`, for a writer);
 * SVERTKA_TUNING_FILE overrides the whole path. Returns 0 when there is no usable location. */
int sv_tuning_db_path(const sv_device_info *device, int create, char *out, size_t size);
/* Loads the device's database file into db (which sv_tuning_db_init prepared); a missing or
 * unreadable file leaves it empty. */
void sv_tuning_db_load(sv_tuning_db *db, const char *path);
/* Writes db to path atomically (a temporary file in the same directory, renamed over it). */
sv_status sv_tuning_db_save(const sv_tuning_db *db, const char *path, sv_message *err);

/* 0 when SVERTKA_TUNING is "off" or "0": SV_CONV_AUTO then ignores the database. */
int sv_tuning_enabled(void);

/* The context's database, loaded on first use (NULL on the reference device or when
 * SVERTKA_TUNING=off). */
const sv_tuning_db *sv_context_tuning(sv_context *ctx);

#endif
