/* Tensors on the reference and the default device: shapes, round trips, bad arguments. */
#include "test_support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_round_trip_every_rank) {
    sv_context *ctx = test_context(test_spec(_i));
    test_rng rng = test_rng_for(11);
    for (int rank = 1; rank <= SV_MAX_RANK; rank++) {
        int64_t dims[SV_MAX_RANK];
        int64_t n = 1;
        for (int i = 0; i < rank; i++)
            n *= dims[i] = test_int(&rng, 1, 7);
        float *in = malloc((size_t)n * sizeof *in), *out = malloc((size_t)n * sizeof *out);
        ck_assert(in && out);
        test_fill_uniform(&rng, in, (size_t)n, -10.0f, 10.0f);
        sv_tensor *t = test_tensor_from(ctx, in, rank, dims);
        ck_assert_int_eq(sv_tensor_rank(t), rank);
        ck_assert_int_eq(sv_tensor_count(t), n);
        for (int i = 0; i < rank; i++)
            ck_assert_int_eq(sv_tensor_dim(t, i), dims[i]);
        ck_assert_int_eq(sv_tensor_dim(t, rank), 0);
        ck_assert_int_eq(sv_tensor_dim(t, -1), 0);
        ck_assert_int_eq(sv_tensor_download(t, out, n), SV_OK);
        ck_assert(memcmp(in, out, (size_t)n * sizeof *in) == 0);
        sv_tensor_release(t);
        free(in);
        free(out);
    }
    sv_context_release(ctx);
}
END_TEST

START_TEST(test_bad_shapes_rejected) {
    sv_context *ctx = test_context(test_spec(_i));
    sv_tensor *t = NULL;
    const int64_t ok[2] = {2, 3}, zero[2] = {2, 0}, negative[2] = {-1, 3};
    const int64_t huge[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 4};
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, 0, ok, &t), SV_INVALID_ARGUMENT, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "rank 0"));
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, SV_MAX_RANK + 1, ok, &t), SV_INVALID_ARGUMENT, ctx);
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, 2, zero, &t), SV_INVALID_ARGUMENT, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "[2, 0]"));
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, 2, negative, &t), SV_INVALID_ARGUMENT, ctx);
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, 3, huge, &t), SV_INVALID_ARGUMENT, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "too large"));
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, 2, NULL, &t), SV_INVALID_ARGUMENT, ctx);
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, 2, ok, NULL), SV_INVALID_ARGUMENT, ctx);
    ck_assert_ptr_null(t);
    sv_context_release(ctx);
}
END_TEST

START_TEST(test_bad_transfers_rejected) {
    sv_context *ctx = test_context(test_spec(_i));
    const int64_t dims[2] = {2, 3};
    float buf[6] = {0};
    sv_tensor *t = NULL;
    ck_assert_int_eq(sv_tensor_create(ctx, 2, dims, &t), SV_OK);
    TEST_ASSERT_STATUS(sv_tensor_upload(t, buf, 5), SV_SHAPE_MISMATCH, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "5 floats given for a tensor of 6"));
    TEST_ASSERT_STATUS(sv_tensor_download(t, buf, 7), SV_SHAPE_MISMATCH, ctx);
    TEST_ASSERT_STATUS(sv_tensor_upload(t, NULL, 6), SV_INVALID_ARGUMENT, ctx);
    TEST_ASSERT_STATUS(sv_tensor_download(t, NULL, 6), SV_INVALID_ARGUMENT, ctx);
    ck_assert_int_eq(sv_tensor_upload(NULL, buf, 6), SV_INVALID_ARGUMENT);
    sv_host_view view = sv_host_view_make(NULL, 2, dims);
    TEST_ASSERT_STATUS(sv_tensor_from_host(ctx, &view, &t), SV_INVALID_ARGUMENT, ctx);
    sv_tensor_release(t);
    sv_tensor_release(NULL);
    sv_context_release(ctx);
}
END_TEST

START_TEST(test_oversized_tensor_refused_on_device) {
    sv_context *ctx = test_context(NULL);
    const sv_device_info *dev = sv_context_device(ctx);
    if (dev->kind != SV_DEVICE_REF) {
        const int64_t dims[1] = {(int64_t)(dev->max_alloc_bytes / sizeof(float)) + 1};
        sv_tensor *t = NULL;
        TEST_ASSERT_STATUS(sv_tensor_create(ctx, 1, dims, &t), SV_OUT_OF_MEMORY, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "largest allocation"));
    }
    sv_context_release(ctx);
}
END_TEST

/* A reshaped view shares storage: writes through one are seen through the other, and either
 * may be released first. */
START_TEST(test_reshape_view_shares_storage) {
    sv_context *ctx = test_context(test_spec(_i));
    float data[24], back[24];
    for (int i = 0; i < 24; i++)
        data[i] = (float)i;
    const int64_t dims[3] = {2, 3, 4}, flat[2] = {2, 12}, wrong[2] = {5, 5};
    sv_tensor *t = test_tensor_from(ctx, data, 3, dims), *view = NULL, *view2 = NULL;
    ck_assert_int_eq(sv_tensor_reshape(t, 2, flat, &view), SV_OK);
    ck_assert_int_eq(sv_tensor_rank(view), 2);
    ck_assert_int_eq(sv_tensor_dim(view, 1), 12);
    for (int i = 0; i < 24; i++)
        data[i] = (float)(100 - i);
    ck_assert_int_eq(sv_tensor_upload(view, data, 24), SV_OK);
    ck_assert_int_eq(sv_tensor_download(t, back, 24), SV_OK);
    ck_assert(memcmp(data, back, sizeof data) == 0);
    TEST_ASSERT_STATUS(sv_tensor_reshape(t, 2, wrong, &view2), SV_SHAPE_MISMATCH, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "cannot reshape [2, 3, 4]"));
    ck_assert_ptr_null(view2);
    sv_tensor_release(t); /* the view keeps the storage alive */
    ck_assert_int_eq(sv_tensor_download(view, back, 24), SV_OK);
    ck_assert(memcmp(data, back, sizeof data) == 0);
    sv_tensor_release(view);
    sv_context_release(ctx);
}
END_TEST

START_TEST(test_host_view) {
    float data[24];
    const int64_t dims[3] = {2, 3, 4};
    sv_host_view v = sv_host_view_make(data, 3, dims);
    ck_assert_ptr_eq(v.data, data);
    ck_assert_int_eq(v.rank, 3);
    ck_assert_int_eq(sv_host_view_count(&v), 24);
    ck_assert_int_eq(v.dims[3], 1);
    ck_assert_int_eq(v.dims[4], 1);
}
END_TEST

static Suite *tensor_suite(void) {
    Suite *s = suite_create("tensor");
    TCase *tc = test_add_case(s, "tensors", 60);
    tcase_add_loop_test(tc, test_round_trip_every_rank, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(tc, test_bad_shapes_rejected, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(tc, test_bad_transfers_rejected, 0, TEST_SPEC_COUNT);
    tcase_add_test(tc, test_oversized_tensor_refused_on_device);
    tcase_add_loop_test(tc, test_reshape_view_shares_storage, 0, TEST_SPEC_COUNT);
    tcase_add_test(tc, test_host_view);
    return s;
}

TEST_MAIN(tensor_suite)
