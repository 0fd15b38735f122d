/* The transforms of Winograd convolution F(m x m, 3 x 3) (Lavin and Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016), NCHW, 3x3 kernels, stride 1, dilation 1, any groups and
 * padding mode. Per image tile of m x m outputs, read from an ALPHA x ALPHA input patch
 * (ALPHA = m + 2) and per (output channel, input channel):
 *     y = A^T [ (G g G^T) . (B^T d B) ] A      (. elementwise, summed over input channels)
 * The sum over input channels is ALPHA^2 independent matrix products, one per point xi of the
 * transformed tile: M[xi] = U[xi]^T V[xi], done by conv_winograd_gemm.cl (or its CPU-shaped
 * counterpart conv_winograd_gemm_cpu.cl). Layouts:
 *     U [xi][group][c][k]  (the filter transform; c and k within the group, k padded with zeros
 *                           for the CPU-shaped product)
 *     V [xi][c][tile]      (the input transform; c over all channels = [group][c])
 *     M [xi][k][tile]      (the products; k over all channels = [group][k]; on CPU devices
 *                           [xi][group][tile][k], k within the group)
 * with tiles numbered image by image of the batch chunk a run processes, row by row.
 *
 * Each kernel is built alone, with only the options it depends on, so that a model or a test
 * sweep pays for one program per tile size and padding mode (input), per tile size, activation
 * and pooling (output), per tile size (filter), not per combination: WINO_M (2 or 4) and one of
 * WINO_FILTER, WINO_INPUT with SV_PAD_MODE, WINO_OUTPUT with SV_ACT and SV_MAX_POOL. With
 * WINO_CPU (and CPU_WIDE_VECTORS), the input and output kernels are the ones shaped for CPU
 * devices, which transform 16 tiles (input) or 16 channels (output) at once in the lanes of
 * float16 vectors. */

#define WINO_ALPHA (WINO_M + 2)

/* What the transforms compute on: one tile's values, or on CPU devices 16 tiles' or channels' */
#ifdef WINO_CPU
#define WINO_LANES 16
#define WINO_T float16
#else
#define WINO_T float
#endif

/* The 1-D transforms: t = B^T d (ALPHA -> ALPHA), u = G g (3 -> ALPHA), o = A^T m
 * (ALPHA -> m), written out so that no multiplication by 0 or 1 is left to the compiler (IEEE
 * rules forbid it to drop 0 * x). */
#if WINO_M == 2
/* interpolation points 0, 1, -1 and infinity */
inline void wino_input_1d(const WINO_T *d, WINO_T *t) {
    t[0] = d[0] - d[2];
    t[1] = d[1] + d[2];
    t[2] = d[2] - d[1];
    t[3] = d[1] - d[3];
}

inline void wino_filter_1d(const WINO_T *g, WINO_T *u) {
    u[0] = g[0];
    u[1] = 0.5f * (g[0] + g[1] + g[2]);
    u[2] = 0.5f * (g[0] - g[1] + g[2]);
    u[3] = g[2];
}

inline void wino_output_1d(const WINO_T *m, WINO_T *o) {
    o[0] = m[0] + m[1] + m[2];
    o[1] = m[1] - m[2] - m[3];
}
#elif WINO_M == 4
/* interpolation points 0, 1, -1, 2, -2 and infinity */
inline void wino_input_1d(const WINO_T *d, WINO_T *t) {
    t[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    t[1] = -4.0f * d[1] - 4.0f * d[2] + d[3] + d[4];
    t[2] = 4.0f * d[1] - 4.0f * d[2] - d[3] + d[4];
    t[3] = -2.0f * d[1] - d[2] + 2.0f * d[3] + d[4];
    t[4] = 2.0f * d[1] - d[2] - 2.0f * d[3] + d[4];
    t[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

inline void wino_filter_1d(const WINO_T *g, WINO_T *u) {
    u[0] = g[0] / 4.0f;
    u[1] = -(g[0] + g[1] + g[2]) / 6.0f;
    u[2] = -(g[0] - g[1] + g[2]) / 6.0f;
    u[3] = g[0] / 24.0f + g[1] / 12.0f + g[2] / 6.0f;
    u[4] = g[0] / 24.0f - g[1] / 12.0f + g[2] / 6.0f;
    u[5] = g[2];
}

inline void wino_output_1d(const WINO_T *m, WINO_T *o) {
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
        WINO_T mid_[OUT][IN], col_[IN], tcol_[OUT];                                                 \
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
 * model at load. U's rows hold row_length >= out_per_group values, those past out_per_group
 * zeros (the CPU-shaped product's padding, conv_winograd_gemm_cpu.cl). */
__kernel void winograd_filter(__global const float *w, __global float *u, int K, int in_per_group,
                              int groups, int row_length) {
    /* = (group * row_length + kg) * in_per_group + c: the weights' own order where the rows have
     * no padding */
    const int i = get_global_id(0);
    if (i >= groups * row_length * in_per_group)
        return;
    const int out_per_group = K / groups;
    const int c = i % in_per_group, kk = i / in_per_group;
    const int group = kk / row_length, kg = kk % row_length;
    float g[3][3], t[WINO_ALPHA][WINO_ALPHA];
    const int k = group * out_per_group + kg;
    for (int r = 0; r < 3; r++)
        for (int s = 0; s < 3; s++)
            g[r][s] = kg < out_per_group ? w[(k * in_per_group + c) * 9 + r * 3 + s] : 0.0f;
    WINO_2D(wino_filter_1d, 3, WINO_ALPHA, g, t);
    const int plane = groups * in_per_group * row_length; /* elements per xi */
    __global float *out = u + (group * in_per_group + c) * row_length + kg;
    for (int r = 0; r < WINO_ALPHA; r++)
        for (int s = 0; s < WINO_ALPHA; s++)
            out[(r * WINO_ALPHA + s) * plane] = t[r][s];
}

#endif

#if defined(WINO_INPUT) && !defined(WINO_CPU)
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
/* With SV_MAX_POOL, y is the activated output max-pooled over 2x2 windows at stride 2 (floor:
 * OH / 2 x OW / 2). Tiles start at multiples of m, which is even, so a tile's m x m outputs are
 * whole pooling windows: it stores their (m / 2)^2 maxima, those inside the pooled output. */
#define POOL (SV_MAX_POOL ? 2 : 1)
#define STORED (WINO_M / POOL) /* outputs a tile stores per row and column */

/* Output (i, j) of a tile whose outputs o holds: plus bias, activated, and with SV_MAX_POOL the
 * maximum of its 2x2 window (i and j count the stored outputs). */
inline float wino_stored_value(float o[WINO_M][WINO_M], int i, int j, float b, float alpha,
                               float beta) {
    float v = sv_activate(o[i * POOL][j * POOL] + b, alpha, beta);
#if SV_MAX_POOL
    v = sv_pool_max(v, sv_activate(o[i * 2][j * 2 + 1] + b, alpha, beta));
    v = sv_pool_max(v, sv_activate(o[i * 2 + 1][j * 2] + b, alpha, beta));
    v = sv_pool_max(v, sv_activate(o[i * 2 + 1][j * 2 + 1] + b, alpha, beta));
#endif
    return v;
}
#endif

#if defined(WINO_OUTPUT) && !defined(WINO_CPU)
/* y = A^T M A of one tile of one output channel, plus bias, through the activation; only the
 * outputs inside OH x OW are stored. M starts at work + m_offset. */

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
        for (int j = 0; j < STORED; j++)
            if (yh0 + i < YH && yw0 + j < YW)
                yk[(yh0 + i) * YW + yw0 + j] = wino_stored_value(o, i, j, b, alpha, beta);
}
#endif

#ifdef WINO_CPU
/* The CPU-shaped transforms, whose arithmetic runs on whole vectors of WINO_LANES values: the
 * input transform's lanes are tiles next to each other in a row of tiles (tile columns tc0 ..;
 * lanes past the row's end compute zeros and store nothing), contiguous in V; the output
 * transform's are channels of one tile, contiguous in the CPU-shaped product's tile-major M
 * (conv_winograd_gemm_cpu.cl). One work-item per work-group. */

#ifdef WINO_INPUT
__kernel CPU_KERNEL_ATTRIBUTES void winograd_input_cpu(__global const float *x, __global float *v,
                                                       int C, int H, int W, int OH, int OW,
                                                       int PH, int PW, int tiles_w,
                                                       int tiles_per_image, int n0, int images) {
    const int tiles_h = tiles_per_image / tiles_w;
    const int tc0 = get_global_id(0) * WINO_LANES;
    const int image = get_global_id(1) / tiles_h, tr = get_global_id(1) % tiles_h;
    const int c = get_global_id(2);
    if (tc0 >= tiles_w || image >= images)
        return;
    __global const float *xc = x + ((size_t)(n0 + image) * C + c) * H * W;
    /* each lane's source column for each column s of its patch, -1 for a zero */
    int cols[WINO_ALPHA][WINO_LANES];
    for (int s = 0; s < WINO_ALPHA; s++)
        for (int l = 0; l < WINO_LANES; l++) {
            const int col = (tc0 + l) * WINO_M + s;
            cols[s][l] = col < OW + 2 ? sv_pad_source(col - PW, W) : -1;
        }
    WINO_T d[WINO_ALPHA][WINO_ALPHA], tv[WINO_ALPHA][WINO_ALPHA];
    for (int r = 0; r < WINO_ALPHA; r++) {
        const int row0 = tr * WINO_M + r;
        const int row = row0 < OH + 2 ? sv_pad_source(row0 - PH, H) : -1;
        __global const float *xr = xc + max(row, 0) * W;
        for (int s = 0; s < WINO_ALPHA; s++) {
            float lane[WINO_LANES];
            for (int l = 0; l < WINO_LANES; l++)
                lane[l] = row >= 0 && cols[s][l] >= 0 ? xr[cols[s][l]] : 0.0f;
            d[r][s] = vload16(0, lane);
        }
    }
    WINO_2D(wino_input_1d, WINO_ALPHA, WINO_ALPHA, d, tv);
    const int tiles = images * tiles_per_image, lanes = min(WINO_LANES, tiles_w - tc0);
    __global float *out = v + c * tiles + image * tiles_per_image + tr * tiles_w + tc0;
    for (int r = 0; r < WINO_ALPHA; r++)
        for (int s = 0; s < WINO_ALPHA; s++) {
            __global float *o = out + (r * WINO_ALPHA + s) * C * tiles;
            if (lanes == WINO_LANES) {
                vstore16(tv[r][s], 0, o);
            } else {
                float lane[WINO_LANES];
                vstore16(tv[r][s], 0, lane);
                for (int l = 0; l < lanes; l++)
                    o[l] = lane[l];
            }
        }
}
#endif

#ifdef WINO_OUTPUT
/* M [xi][group][tile][k] here. Work-items: (tiles of the chunk, groups x blocks of WINO_LANES
 * channels within a group); lanes past the group's channels compute zeros and store nothing. */
__kernel CPU_KERNEL_ATTRIBUTES void winograd_output_cpu(__global const float *work, int m_offset,
                                                        __global const float *bias, int has_bias,
                                                        __global float *y, int K, int OH, int OW,
                                                        int tiles_w, int tiles_per_image, int n0,
                                                        int images, float alpha, float beta,
                                                        int groups) {
    const int tile = get_global_id(0);
    const int out_per_group = K / groups;
    const int blocks = (out_per_group + WINO_LANES - 1) / WINO_LANES;
    const int group = get_global_id(1) / blocks;
    const int kg0 = get_global_id(1) % blocks * WINO_LANES;
    const int tiles = images * tiles_per_image;
    if (tile >= tiles || group >= groups)
        return;
    const int lanes = min(WINO_LANES, out_per_group - kg0);
    __global const float *in = work + m_offset + (group * tiles + tile) * out_per_group + kg0;
    const int plane = groups * tiles * out_per_group; /* elements per xi */
    WINO_T mt[WINO_ALPHA][WINO_ALPHA], o[WINO_M][WINO_M];
    for (int r = 0; r < WINO_ALPHA; r++)
        for (int s = 0; s < WINO_ALPHA; s++) {
            __global const float *m = in + (r * WINO_ALPHA + s) * plane;
            if (lanes == WINO_LANES) {
                mt[r][s] = vload16(0, m);
            } else {
                float lane[WINO_LANES];
                for (int l = 0; l < WINO_LANES; l++)
                    lane[l] = l < lanes ? m[l] : 0.0f;
                mt[r][s] = vload16(0, lane);
            }
        }
    WINO_2D(wino_output_1d, WINO_ALPHA, WINO_M, mt, o);
    /* the lanes' outputs, channel by channel */
    float channel_o[WINO_LANES][WINO_M][WINO_M];
    for (int i = 0; i < WINO_M; i++)
        for (int j = 0; j < WINO_M; j++) {
            float lane[WINO_LANES];
            vstore16(o[i][j], 0, lane);
            for (int l = 0; l < WINO_LANES; l++)
                channel_o[l][i][j] = lane[l];
        }
    const int n = n0 + tile / tiles_per_image, t = tile % tiles_per_image;
    const int YH = OH / POOL, YW = OW / POOL; /* y's rows and columns */
    const int yh0 = t / tiles_w * STORED, yw0 = t % tiles_w * STORED;
    for (int l = 0; l < lanes; l++) {
        const int k = group * out_per_group + kg0 + l;
        const float b = has_bias ? bias[k] : 0.0f;
        __global float *yk = y + ((size_t)n * K + k) * YH * YW;
        for (int i = 0; i < STORED; i++)
            for (int j = 0; j < STORED; j++)
                if (yh0 + i < YH && yw0 + j < YW)
                    yk[(yh0 + i) * YW + yw0 + j] =
                        wino_stored_value(channel_o[l], i, j, b, alpha, beta);
    }
}
#endif
#endif
