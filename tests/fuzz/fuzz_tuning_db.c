/* Fuzzes the tuning database reader (sv_tuning_db_parse) as the library reads the file of one
 * device. Any outcome is an answer; a crash, a sanitizer report, a leak or a hang is a bug.
 * Every entry it accepts must be one the library can use (a known algorithm, a variant it has),
 * and a database it accepts must survive a round trip through sv_tuning_db_write unchanged. */
#include "fuzz.h"
#include "ops/conv_tuning.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    abort();
}

/* The device the seeds' headers name (tests/data/fuzz/tuning_db/). */
static sv_tuning_db fuzz_db(void) {
    sv_device_info device;
    memset(&device, 0, sizeof device);
    snprintf(device.name, sizeof device.name, "fuzz device");
    snprintf(device.driver_version, sizeof device.driver_version, "1.0");
    sv_tuning_db db;
    sv_tuning_db_init(&db, &device);
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sv_tuning_db db = fuzz_db();
    const long added = sv_tuning_db_parse(&db, (const char *)data, size);
    FUZZ_CHECK(added >= -1 && (added < 0 ? db.count == 0 : (size_t)added >= db.count),
               "the count of added entries");
    for (size_t i = 0; i < db.count; i++) {
        const sv_conv_impl *impl = sv_conv_impl_of(db.entries[i].choice.algorithm);
        FUZZ_CHECK(impl && db.entries[i].choice.variant >= 0 &&
                       db.entries[i].choice.variant < impl->variants,
                   "an accepted entry names no usable algorithm and variant");
    }
    if (added >= 0) {
        char *text = NULL;
        size_t length = 0;
        FILE *out = open_memstream(&text, &length);
        FUZZ_CHECK(out && sv_tuning_db_write(&db, out) == 0 && fclose(out) == 0,
                   "an accepted database does not write");
        sv_tuning_db again = fuzz_db();
        FUZZ_CHECK(sv_tuning_db_parse(&again, text, length) == (long)db.count &&
                       again.count == db.count,
                   "a written database does not read back whole");
        for (size_t i = 0; i < db.count; i++)
            FUZZ_CHECK(
                memcmp(&again.entries[i].key, &db.entries[i].key, sizeof db.entries[i].key) == 0 &&
                    again.entries[i].choice.algorithm == db.entries[i].choice.algorithm &&
                    again.entries[i].choice.variant == db.entries[i].choice.variant,
                "the round trip changed an entry");
        sv_tuning_db_free(&again);
        free(text);
    }
    sv_tuning_db_free(&db);
    return 0;
}
