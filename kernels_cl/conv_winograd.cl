/* The transforms of Winograd convolution F(m x m, 3 x 3) (Lavin and Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016), NCHW, 3x3 kernels, stride 1, dilation 1, any groups and
 * padding mode. Per image tile of m x m outputs, read from an ALPHA x ALPHA input patch
 * (ALPHA = m + 2) and per (output channel, input channel):
 *     y = A^T [ (G g G^T) . (B^T d B) ] A      (. elementwise, summed over input channels)
 * The sum over input channels is ALPHA^2 independent matrix products, one per point xi of the
 * transformed tile: M[xi] = U[xi]^T V[xi], done by conv_winograd_gemm.cl. Layouts:
 *     U [xi][group][c][k]  (the filter transform; c and k within the group)
 *     V [xi][c][tile]      (the input transform; c over all channels = [group][c])
 *     M [xi][k][tile]      (the products; k over all channels = [group][k])
 * with tiles numbered image by image of the batch chunk a run processes, row by row.
 *
 * Each kernel is built alone, with only the options it depends on, so that a model or a test
 * sweep pays for one program per tile size and padding mode (input), per tile size, activation
 * and pooling (output), per tile size (filter), not per combination: WINO_M (2 or 4) and one of
 * WINO_FILTER, WINO_INPUT with SV_PAD_MODE, WINO_OUTPUT with SV_ACT and SV_MAX_POOL. */

#define WINO_ALPHA (WINO_M + 2)

/* The 1-D transforms: t = B^T d (ALPHA -> ALPHA), u = G g (3 -> ALPHA), o = A^T m
 * (ALPHA -> m), written out so that no multiplication by 0 or 1 is left to the compiler (IEEE
 * rules forbid it to drop 0 * x). */
#if WINO_M == 2
/* interpolation points 0, 1, -1 and infinity */
inline void wino_input_1d(const float *d, float *t) {
    t[0] = d[0] - d[2];
    t[1] = d[1] + d[2];
    t[2] = d[2] - d[1];
    t[3] = d[1] - d[3];
}

inline void wino_filter_1d(const float *g, float *u) {
    u[0] = g[0];
    u[1] = 0.5f * (g[0] + g[1] + g[2]);
    u[2] = 0.5f * (g[0] - g[1] + g[2]);
    u[3] = g[2];
}

inline void wino_output_1d(const float *m, float *o) {
    o[0] = m[0] + m[1] + m[2];
    o[1] = m[1] - m[2] - m[3];
}
#elif WINO_M == 4
/* interpolation points 0, 1, -1, 2, -2 and infinity */
inline void wino_input_1d(const float *d, float *t) {
    t[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    t[1] = -4.0f * d[1] - 4.0f * d[2] + d[3] + d[4];
    t[2] = 4.0f * d[1] - 4.0f * d[2] - d[3] + d[4];
    t[3] = -2.0f * d[1] - d[2] + 2.0f * d[3] + d[4];
    t[4] = 2.0f * d[1] - d[2] - 2.0f * d[3] + d[4];
    t[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

inline void wino_filter_1d(const float *g, float *u) {
    u[0] = g[0] / 4.0f;
    u[1] = -(g[0] + g[1] + g[2]) / 6.0f;
    u[2] = -(g[0] - g[1] + g[2]) / 6.0f;
    u[3] = g[0] / 24.0f + g[1] / 12.0f + g[2] / 6.0f;
    u[4] = g[0] / 24.0f - g[1] / 12.0f + g[2] / 6.0f;
    u[5] = g[2];
}

inline void wino_output_1d(const float *m, float *o) {
    o[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    o[1] = m[1] - m[2] + 2.0f * m[3] - 2.0f * m[4];
    o[2] = m[1] + m[2] + 4.0f * m[3] + 4.0f * m[4];
    o[3] = m[1] - m[2] + 8.0f * m[3] - 8.0f * m[4] + m[5];
}
#else
#error "WINO_M must be 2 or 4"
#endif

/* out = T in T^T for the 1-D transform `f` from IN to OUT values: f on every column of
 * in[IN][IN], then on every row of the result into out[OUT][OUT]. */
#define WINO_2D(f, IN, OUT, in, out)                                                               \
    do {                                                                                           \
        float mid_[OUT][IN], col_[IN], tcol_[OUT];                                                 \
        for (int j_ = 0; j_ < IN; j_++) {                                                          \
            for (int i_ = 0; i_ < IN; i_++)                                                        \
                col_[i_] = in[i_][j_];                                                             \
            f(col_, tcol_);                                                                        \
            for (int i_ = 0; i_ < OUT; i_++)                                                       \
                mid_[i_][j_] = tcol_[i_];                                                          \
        }                                                                                          \
        for (int i_ = 0; i_ < OUT; i_++)                                                           \
            f(mid_[i_], out[i_]);                                                                  \
    } while (0)

#ifdef WINO_FILTER
/* U = G g G^T of one (output channel, input channel) pair of the OIHW weights; run once per
 * model at load. */
__kernel void winograd_filter(__global const float *w, __global float *u, int K, int in_per_group,
                              int groups) {
    const int i = get_global_id(0); /* = k * in_per_group + c, the weights' own order */
    if (i >= K * in_per_group)
        return;
    const int out_per_group = K / groups;
    const int k = i / in_per_group, c = i % in_per_group;
    const int group = k / out_per_group, kg = k % out_per_group;
    float g[3][3], t[WINO_ALPHA][WINO_ALPHA];
    for (int r = 0; r < 3; r++)
        for (int s = 0; s < 3; s++)
            g[r][s] = w[i * 9 + r * 3 + s];
    WINO_2D(wino_filter_1d, 3, WINO_ALPHA, g, t);
    const int plane = groups * in_per_group * out_per_group; /* elements per xi */
    __global float *out = u + (group * in_per_group + c) * out_per_group + kg;
    for (int r = 0; r < WINO_ALPHA; r++)
        for (int s = 0; s < WINO_ALPHA; s++)
            out[(r * WINO_ALPHA + s) * plane] = t[r][s];
}

#endif

#ifdef WINO_INPUT
/* V = B^T d B of one tile of one input channel, for the images n0 .. n0 + images - 1. The
 * patch's rows and columns past the padded input (the last tiles when OH or OW is not a multiple
 * of m) are zeros: they feed only outputs that are never stored. */
__kernel void winograd_input(__global const float *x, __global float *v, int C, int H, int W,
                             int OH, int OW, int PH, int PW, int tiles_w, int tiles_per_image,
                             int n0, int images) {
    const int tile = get_global_id(0);
    const int c = get_global_id(1);
    const int tiles = images * tiles_per_image;
    if (tile >= tiles)
        return;
    const int n = n0 + tile / tiles_per_image;
    const int t = tile % tiles_per_image;
    /* the patch's first row and column in padded coordinates; the padded input has OH + 2 rows
     * and OW + 2 columns */
    const int row0 = t / tiles_w * WINO_M, col0 = t % tiles_w * WINO_M;
    __global const float *xc = x + ((size_t)n * C + c) * H * W;
    float d[WINO_ALPHA][WINO_ALPHA], tv[WINO_ALPHA][WINO_ALPHA];
    for (int r = 0; r < WINO_ALPHA; r++) {
        const int row = row0 + r < OH + 2 ? sv_pad_source(row0 + r - PH, H) : -1;
        for (int s = 0; s < WINO_ALPHA; s++) {
            const int col = col0 + s < OW + 2 ? sv_pad_source(col0 + s - PW, W) : -1;
            d[r][s] = row >= 0 && col >= 0 ? xc[row * W + col] : 0.0f;
        }
    }
    WINO_2D(wino_input_1d, WINO_ALPHA, WINO_ALPHA, d, tv);
    __global float *out = v + c * tiles + tile;
    for (int r = 0; r < WINO_ALPHA; r++)
        for (int s = 0; s < WINO_ALPHA; s++)
            out[(r * WINO_ALPHA + s) * C * tiles] = tv[r][s];
}

#endif

#ifdef WINO_OUTPUT
/* y = A^T M A of one tile of one output channel, plus bias, through the activation; only the
 * outputs inside OH x OW are stored. M starts at work + m_offset.
 *
 * With SV_MAX_POOL, y is the activated output max-pooled over 2x2 windows at stride 2 (floor:
 * OH / 2 x OW / 2). Tiles start at multiples of m, which is even, so a tile's m x m outputs are
 * whole pooling windows: it stores their (m / 2)^2 maxima, those inside the pooled output. */
#define POOL (SV_MAX_POOL ? 2 : 1)
#define STORED (WINO_M / POOL) /* outputs a tile stores per row and column */

__kernel void winograd_output(__global const float *work, int m_offset, __global const float *bias,
                              int has_bias, __global float *y, int K, int OH, int OW, int tiles_w,
                              int tiles_per_image, int n0, int images, float alpha, float beta) {
    const int tile = get_global_id(0);
    const int k = get_global_id(1);
    const int tiles = images * tiles_per_image;
    if (tile >= tiles)
        return;
    const int n = n0 + tile / tiles_per_image;
    const int t = tile % tiles_per_image;
    const int YH = OH / POOL, YW = OW / POOL; /* y's rows and columns */
    const int yh0 = t / tiles_w * STORED, yw0 = t % tiles_w * STORED;
    __global const float *in = work + m_offset + k * tiles + tile; /* M */
    float mt[WINO_ALPHA][WINO_ALPHA], o[WINO_M][WINO_M];
    for (int r = 0; r < WINO_ALPHA; r++)
        for (int s = 0; s < WINO_ALPHA; s++)
            mt[r][s] = in[(r * WINO_ALPHA + s) * K * tiles];
    WINO_2D(wino_output_1d, WINO_ALPHA, WINO_M, mt, o);
    const float b = has_bias ? bias[k] : 0.0f;
    __global float *yk = y + ((size_t)n * K + k) * YH * YW;
    for (int i = 0; i < STORED; i++)
        for (int j = 0; j < STORED; j++) {
            if (yh0 + i >= YH || yw0 + j >= YW)
                continue;
            float v = sv_activate(o[i * POOL][j * POOL] + b, alpha, beta);
#if SV_MAX_POOL
            v = sv_pool_max(v, sv_activate(o[i * 2][j * 2 + 1] + b, alpha, beta));
            v = sv_pool_max(v, sv_activate(o[i * 2 + 1][j * 2] + b, alpha, beta));
            v = sv_pool_max(v, sv_activate(o[i * 2 + 1][j * 2 + 1] + b, alpha, beta));
#endif
            yk[(yh0 + i) * YW + yw0 + j] = v;
        }
}
#endif
