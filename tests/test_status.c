/* Status codes: every code has a distinct name and a description; unknown values are named so. */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

static const sv_status all_codes[] = {
#define SV_TEST_CODE_(name, value, text) SV_##name,
    SV_STATUS_MAP(SV_TEST_CODE_)
#undef SV_TEST_CODE_
};
enum { CODE_COUNT = sizeof all_codes / sizeof all_codes[0] };

START_TEST(test_every_code_has_name_and_text) {
    for (int i = 0; i < CODE_COUNT; i++) {
        const char *name = sv_status_name(all_codes[i]);
        ck_assert_msg(strncmp(name, "SV_", 3) == 0 && strcmp(name, "SV_UNKNOWN_STATUS") != 0,
                      "code %d has name %s", (int)all_codes[i], name);
        ck_assert_msg(strcmp(sv_status_string(all_codes[i]), "unknown status code") != 0,
                      "%s has no description", name);
        ck_assert_msg(all_codes[i] == SV_OK || all_codes[i] < 0, "%s is not negative", name);
        for (int j = 0; j < i; j++) {
            ck_assert_int_ne(all_codes[i], all_codes[j]);
            ck_assert_str_ne(name, sv_status_name(all_codes[j]));
        }
    }
    ck_assert_str_eq(sv_status_name(SV_OK), "SV_OK");
    ck_assert_str_eq(sv_status_name(SV_BUILD_FAILED), "SV_BUILD_FAILED");
    ck_assert_str_eq(sv_status_string(SV_OK), "success");
}
END_TEST

START_TEST(test_unknown_code) {
    ck_assert_str_eq(sv_status_name((sv_status)12345), "SV_UNKNOWN_STATUS");
    ck_assert_str_eq(sv_status_string((sv_status)-999), "unknown status code");
}
END_TEST

START_TEST(test_version_is_semver) {
    int major = -1, minor = -1, patch = -1;
    ck_assert_int_eq(sscanf(sv_version(), "%d.%d.%d", &major, &minor, &patch), 3);
    ck_assert_int_eq(major, SV_VERSION_MAJOR);
    ck_assert_int_eq(minor, SV_VERSION_MINOR);
    ck_assert_int_eq(patch, SV_VERSION_PATCH);
}
END_TEST

int main(void) {
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("codes");
    tcase_add_test(tc, test_every_code_has_name_and_text);
    tcase_add_test(tc, test_unknown_code);
    tcase_add_test(tc, test_version_is_semver);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
