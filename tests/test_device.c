/* Device discovery and selection by spec. The suite needs at least one OpenCL device (pocl in
 * CI): an environment without one fails here first, with a message saying so. */
#include "test_support.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LISTED = 64 };

static size_t list_devices(sv_device_info *infos) {
    sv_message msg = {{0}};
    size_t count = 0;
    ck_assert_msg(sv_devices_list(infos, MAX_LISTED, &count, &msg) == SV_OK, "%s", msg.text);
    ck_assert_msg(count >= 1, "no OpenCL device: the test suite needs one (e.g. pocl-opencl-icd)");
    return count < MAX_LISTED ? count : MAX_LISTED;
}

START_TEST(test_list_marks_one_default_gpu_first) {
    sv_device_info infos[MAX_LISTED];
    size_t n = list_devices(infos);
    size_t defaults = 0, first_gpu = n;
    for (size_t i = 0; i < n; i++) {
        defaults += infos[i].is_default != 0;
        if (infos[i].kind == SV_DEVICE_GPU && first_gpu == n)
            first_gpu = i;
        ck_assert_int_ne(infos[i].kind, SV_DEVICE_REF);
        ck_assert(infos[i].name[0] != '\0');
        ck_assert(infos[i].compute_units >= 1);
        ck_assert(infos[i].global_mem_bytes > 0 && infos[i].max_alloc_bytes > 0);
    }
    ck_assert_int_eq(defaults, 1);
    ck_assert_msg(infos[first_gpu < n ? first_gpu : 0].is_default,
                  "the default must be the first GPU, else the first device");
}
END_TEST

START_TEST(test_count_only_query) {
    size_t count = 0;
    ck_assert_int_eq(sv_devices_list(NULL, 0, &count, NULL), SV_OK);
    ck_assert(count >= 1);
    ck_assert_int_eq(sv_devices_list(NULL, 0, NULL, NULL), SV_INVALID_ARGUMENT);
}
END_TEST

static sv_device_info resolve_ok(const char *spec) {
    sv_device_info info;
    sv_message msg = {{0}};
    sv_status st = sv_device_resolve(spec, &info, &msg);
    ck_assert_msg(st == SV_OK, "spec '%s': %s: %s", spec ? spec : "(null)", sv_status_name(st),
                  msg.text);
    return info;
}

START_TEST(test_resolve_specs) {
    sv_device_info infos[MAX_LISTED];
    size_t n = list_devices(infos);
    unsetenv("SVERTKA_DEVICE");

    ck_assert_int_eq(resolve_ok("ref").kind, SV_DEVICE_REF);
    sv_device_info def = resolve_ok(NULL);
    ck_assert(def.is_default);
    ck_assert_str_eq(resolve_ok("").name, def.name);
    ck_assert_str_eq(resolve_ok("cl").name, def.name);
    for (size_t i = 0; i < n; i++) {
        char spec[32];
        snprintf(spec, sizeof spec, "cl:%d:%d", infos[i].platform_index, infos[i].device_index);
        sv_device_info got = resolve_ok(spec);
        ck_assert_int_eq(got.platform_index, infos[i].platform_index);
        ck_assert_int_eq(got.device_index, infos[i].device_index);
    }
    /* a name substring, in another case, finds a device with that name */
    char part[8] = {0};
    for (int i = 0; i < 4 && infos[0].name[i]; i++)
        part[i] = (char)toupper((unsigned char)infos[0].name[i]);
    ck_assert(strlen(resolve_ok(part).name) > 0);
    for (int k = 0; k < 2; k++) {
        const char *type = k ? "cpu" : "gpu";
        sv_device_kind kind = k ? SV_DEVICE_CPU : SV_DEVICE_GPU;
        int present = 0;
        for (size_t i = 0; i < n; i++)
            present |= infos[i].kind == kind;
        sv_device_info info;
        sv_message msg;
        sv_status st = sv_device_resolve(type, &info, &msg);
        ck_assert_int_eq(st, present ? SV_OK : SV_NO_DEVICE);
        if (present)
            ck_assert_int_eq(info.kind, kind);
    }
}
END_TEST

START_TEST(test_environment_variable_selects) {
    sv_device_info infos[MAX_LISTED];
    size_t n = list_devices(infos);
    setenv("SVERTKA_DEVICE", "ref", 1);
    ck_assert_int_eq(resolve_ok(NULL).kind, SV_DEVICE_REF);
    char spec[32];
    snprintf(spec, sizeof spec, "cl:%d:%d", infos[n - 1].platform_index, infos[n - 1].device_index);
    setenv("SVERTKA_DEVICE", spec, 1);
    ck_assert_int_eq(resolve_ok("").device_index, infos[n - 1].device_index);
    /* an explicit spec wins over the environment */
    ck_assert_int_eq(resolve_ok("ref").kind, SV_DEVICE_REF);
    unsetenv("SVERTKA_DEVICE");
}
END_TEST

START_TEST(test_bad_specs) {
    static const struct {
        const char *spec;
        sv_status status;
        const char *phrase;
    } rows[] = {
        {"cl:", SV_INVALID_ARGUMENT, "malformed"},
        {"cl:0", SV_INVALID_ARGUMENT, "malformed"},
        {"cl:a:b", SV_INVALID_ARGUMENT, "malformed"},
        {"cl:0:0:0", SV_INVALID_ARGUMENT, "malformed"},
        {"cl:-1:0", SV_INVALID_ARGUMENT, "malformed"},
        {"cl:99:0", SV_NO_DEVICE, "no OpenCL device 0 on platform 99"},
        {"no-such-device-anywhere", SV_NO_DEVICE, "no OpenCL device matches"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sv_device_info info;
        sv_message msg = {{0}};
        sv_status st = sv_device_resolve(rows[i].spec, &info, &msg);
        ck_assert_msg(st == rows[i].status, "'%s': expected %s, got %s", rows[i].spec,
                      sv_status_name(rows[i].status), sv_status_name(st));
        ck_assert_msg(strstr(msg.text, rows[i].phrase), "'%s': message '%s' lacks '%s'",
                      rows[i].spec, msg.text, rows[i].phrase);
        sv_context *ctx = NULL;
        ck_assert_int_eq(sv_context_create(rows[i].spec, &ctx, NULL), rows[i].status);
        ck_assert_ptr_null(ctx);
    }
}
END_TEST

static Suite *device_suite(void) {
    Suite *s = suite_create("device");
    TCase *tc = test_add_case(s, "discovery and selection", 60);
    tcase_add_test(tc, test_list_marks_one_default_gpu_first);
    tcase_add_test(tc, test_count_only_query);
    tcase_add_test(tc, test_resolve_specs);
    tcase_add_test(tc, test_environment_variable_selects);
    tcase_add_test(tc, test_bad_specs);
    return s;
}

TEST_MAIN(device_suite)
