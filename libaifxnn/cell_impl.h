/*
 * cell_impl.h - the LSTM cell's elementwise work, forward and backward, on vectors of CELL_VW
 * floats (GCC/Clang vector extensions). Included by lstm.c (16 floats, compiled for AVX-512F,
 * AVX2 and x86-64 by target_clones) and by cell_avx2.c (8 floats, one ymm, with AVX2 and FMA:
 * the 16-float form spilled most of its constants on AVX2). The includer defines
 *   CELL_VW       8 or 16
 *   CELL_ATTR     the functions' attributes (targets, fp-contract)
 *   CELL_LINKAGE  static or empty
 *   CELL_FN(x)    the name of function x
 * The maths is lstm.c's (its file comment): lane by lane the same operations in both widths.
 */
#define VW CELL_VW /* floats per vector */
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VW * sizeof(float))));

AIFX_INLINE vf vsplat(float a)
{
#if CELL_VW == 16
    return (vf){a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a};
#else
    return (vf){a, a, a, a, a, a, a, a};
#endif
}

/* n (<= VW) floats from p, the rest 0 */
AIFX_INLINE vf vload(const float *p, int n)
{
    vf v = vsplat(0.0f);
    if (n == VW)
        memcpy(&v, p, sizeof(v));
    else
        memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}

AIFX_INLINE void vstore_p(float *p, const vf *v, int n)
{
    if (n == VW)
        memcpy(p, v, sizeof(*v));
    else
        memcpy(p, v, (size_t)n * sizeof(float));
}
#define VSTORE(p, v, n) vstore_p((p), (const vf[1]){(v)}, (n))

/* mask ? a : b, lane by lane */
#define VSEL(mask, a, b) ((vf)(((mask) & (vi)(a)) | (~(mask) & (vi)(b))))

/* exp(x) for x already in [-87.3, 88.3] */
AIFX_INLINE vf vexp_in_range_p(const vf *px)
{
    const vf x = *px;
    const vf magic = vsplat(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
    vf n = (x * vsplat(1.44269504088896341f) + magic) - magic;
    vf r = x - n * vsplat(0.693359375f);
    r = r - n * vsplat(-2.12194440e-4f);
    vf p = vsplat(1.9875691500e-4f);
    p = p * r + vsplat(1.3981999507e-3f);
    p = p * r + vsplat(8.3334519073e-3f);
    p = p * r + vsplat(4.1665795894e-2f);
    p = p * r + vsplat(1.6666665459e-1f);
    p = p * r + vsplat(5.0000001201e-1f);
    vf y = p * (r * r) + r + vsplat(1.0f);
    vi e = (__builtin_convertvector(n, vi) + 127) << 23; /* 2^n, n in [-126, 127] */
    return y * (vf)e;
}

#define VEXP_IN_RANGE(x) vexp_in_range_p((const vf[1]){(x)})

AIFX_INLINE vf vexp_p(const vf *px)
{
    vf x = *px;
    x = VSEL(x > vsplat(88.3f), vsplat(88.3f), x);
    x = VSEL(x < vsplat(-87.3f), vsplat(-87.3f), x);
    return VEXP_IN_RANGE(x);
}
#define VEXP(x) vexp_p((const vf[1]){(x)})

AIFX_INLINE vf vtanh_p(const vf *px)
{
    const vf x = *px;
    const vi sign_bit = (vi)vsplat(-0.0f);
    const vi sign = (vi)x & sign_bit;
    vf ax = (vf)((vi)x & ~sign_bit);
    vf z = x * x;
    vf p = vsplat(-5.70498872745e-3f);
    p = p * z + vsplat(2.06390887954e-2f);
    p = p * z + vsplat(-5.37397155531e-2f);
    p = p * z + vsplat(1.33314422036e-1f);
    p = p * z + vsplat(-3.33332819422e-1f);
    vf small = p * z * x + x;
    vf large = vsplat(1.0f) - vsplat(2.0f) / (VEXP(ax + ax) + vsplat(1.0f));
    large = (vf)((vi)large | sign);
    return VSEL(ax < vsplat(0.625f), small, large);
}

#define VTANH(x) vtanh_p((const vf[1]){(x)})

AIFX_INLINE vf vclamp20_p(const vf *px) /* to [-20, 20] */
{
    vf x = *px;
    x = VSEL(x > vsplat(20.0f), vsplat(20.0f), x);
    return VSEL(x < vsplat(-20.0f), vsplat(-20.0f), x);
}

#define VCLAMP20(x) vclamp20_p((const vf[1]){(x)})

/* i, f, o = sigm(zi, zf, zo), g = tanh(zg) with one division for the four (a vector division
 * costs as much as the rest of the gate maths): with a, b, c, d the four denominators
 * 1 + exp(-z) and exp(2|zg|) + 1, r = 1 / (a b c d) and 1/a = r b c d, etc. The sigmoid inputs
 * are clamped to [-20, 20] (sigm(20) rounds to 1; sigm(-20) = 2.1e-9 stands in for smaller
 * values, an absolute error below 2.1e-9) and tanh's large branch to |zg| <= 9.01 (tanh rounds
 * to 1 there), so that the product stays below 1e34. About 3 ulp. */
AIFX_INLINE void gates4(const vf *z4, vf *i, vf *f, vf *g, vf *o)
{
    const vf zi = z4[0], zf = z4[1], zg = z4[2], zo = z4[3];
    const vf one = vsplat(1.0f);
    vf a = one + VEXP_IN_RANGE(-VCLAMP20(zi));
    vf b = one + VEXP_IN_RANGE(-VCLAMP20(zf));
    vf c = one + VEXP_IN_RANGE(-VCLAMP20(zo));
    const vi sign_bit = (vi)vsplat(-0.0f);
    const vi sign = (vi)zg & sign_bit;
    vf ag = (vf)((vi)zg & ~sign_bit);
    vf agc = VSEL(ag > vsplat(9.01f), vsplat(9.01f), ag);
    vf d = VEXP_IN_RANGE(agc + agc) + one;
    vf ab = a * b, cd = c * d;
    vf r = one / (ab * cd);
    vf r_ab = r * cd, r_cd = r * ab; /* 1/(ab), 1/(cd) */
    *i = r_ab * b;
    *f = r_ab * a;
    *o = r_cd * d;
    vf large = one - vsplat(2.0f) * (r_cd * c);
    large = (vf)((vi)large | sign);
    vf z2 = zg * zg;
    vf p = vsplat(-5.70498872745e-3f);
    p = p * z2 + vsplat(2.06390887954e-2f);
    p = p * z2 + vsplat(-5.37397155531e-2f);
    p = p * z2 + vsplat(1.33314422036e-1f);
    p = p * z2 + vsplat(-3.33332819422e-1f);
    *g = VSEL(ag < vsplat(0.625f), p * z2 * zg + zg, large);
}

/* Forward cell on units j .. j+n-1 of one row; see aifx__lstm_cell. Inlined with n = VW in the
 * main loop (plain vector loads and stores) and once more for the tail. */
AIFX_INLINE void cell_chunk(int H, const float *bias, float *zb, const float *cpb, float *cb,
                            float *hb, int j, int n, int keep_gates)
{
    vf zi = vload(zb + j, n), zf = vload(zb + H + j, n);
    vf zg = vload(zb + 2 * H + j, n), zo = vload(zb + 3 * H + j, n);
    if (bias) {
        zi += vload(bias + j, n);
        zf += vload(bias + H + j, n);
        zg += vload(bias + 2 * H + j, n);
        zo += vload(bias + 3 * H + j, n);
    }
    vf i, f, g, o;
    const vf z4[4] = {zi, zf, zg, zo};
    gates4(z4, &i, &f, &g, &o);
    vf cn = i * g;
    if (cpb)
        cn = cn + f * vload(cpb + j, n);
    if (keep_gates) {
        VSTORE(zb + j, i, n);
        VSTORE(zb + H + j, f, n);
        VSTORE(zb + 2 * H + j, g, n);
        VSTORE(zb + 3 * H + j, o, n);
    }
    VSTORE(cb + j, cn, n);
    VSTORE(hb + j, o * VTANH(cn), n);
}

CELL_ATTR
CELL_LINKAGE void CELL_FN(lstm_cell)(int n_batch, int n_hidden, const float *bias, float *z,
                                     const float *c_prev, float *c, float *h, int keep_gates)
{
    const int H = n_hidden;
    for (int b = 0; b < n_batch; b++) {
        float *zb = z + (size_t)b * 4 * H; /* (4H) */
        const float *cpb = c_prev ? c_prev + (size_t)b * H : NULL;
        float *cb = c + (size_t)b * H, *hb = h + (size_t)b * H;
        int j = 0;
        if (keep_gates) { /* two copies of the loop, the flag a constant in each */
            for (; j + VW <= H; j += VW)
                cell_chunk(H, bias, zb, cpb, cb, hb, j, VW, 1);
            if (j < H)
                cell_chunk(H, bias, zb, cpb, cb, hb, j, H - j, 1);
        } else {
            for (; j + VW <= H; j += VW)
                cell_chunk(H, bias, zb, cpb, cb, hb, j, VW, 0);
            if (j < H)
                cell_chunk(H, bias, zb, cpb, cb, hb, j, H - j, 0);
        }
    }
}

/* Backward cell on units j .. j+n-1 of one row; see cell_backward. */
AIFX_INLINE void cell_backward_chunk(int H, float *zb, const float *ct, const float *cp,
                                     const float *dh, const float *up, float *dc, int j, int n)
{
    vf i = vload(zb + j, n), f = vload(zb + H + j, n);
    vf g = vload(zb + 2 * H + j, n), o = vload(zb + 3 * H + j, n);
    vf dht = vload(dh + j, n);
    if (up)
        dht = dht + vload(up + j, n);
    vf tc = VTANH(vload(ct + j, n));
    vf one = vsplat(1.0f);
    vf dct = vload(dc + j, n) + dht * o * (one - tc * tc);
    vf di = dct * g * i * (one - i);
    vf df = dct * vload(cp + j, n) * f * (one - f);
    vf dg = dct * i * (one - g * g);
    vf dO = dht * tc * o * (one - o);
    VSTORE(zb + j, di, n);
    VSTORE(zb + H + j, df, n);
    VSTORE(zb + 2 * H + j, dg, n);
    VSTORE(zb + 3 * H + j, dO, n);
    VSTORE(dc + j, dct * f, n);
}

/* One step of the backward elementwise work over B rows (see the file comment): z (B, 4H)
 * activated gates in, dz out; ct, cp (B, H) c_t and c_{t-1}; dh (B, H) the gradient from step
 * t+1, up (B, H) the one from above (or NULL); dc (B, H) in and out. The bias gradient is summed
 * from the stored dz after the recurrence (lstm.c), in an order no thread split changes. */
CELL_ATTR
CELL_LINKAGE void CELL_FN(cell_backward)(int n_batch, int n_hidden, float *z, const float *ct,
                                         const float *cp, const float *dh, const float *up,
                                         float *dc)
{
    const int H = n_hidden;
    for (int b = 0; b < n_batch; b++) {
        const size_t r = (size_t)b * H;
        float *zb = z + (size_t)b * 4 * H;
        const float *upb = up ? up + r : NULL;
        int j = 0;
        for (; j + VW <= H; j += VW)
            cell_backward_chunk(H, zb, ct + r, cp + r, dh + r, upb, dc + r, j, VW);
        if (j < H)
            cell_backward_chunk(H, zb, ct + r, cp + r, dh + r, upb, dc + r, j, H - j);
    }
}
