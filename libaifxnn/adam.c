/*
 * adam.c - Adam in PyTorch's form (Kingma and Ba, 2015; torch.optim.Adam), optional decoupled
 * weight decay (Loshchilov and Hutter, AdamW), and global-norm gradient clipping.
 *
 *   t += 1;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p *= 1 - lr wd                                   (only when wd > 0)
 *   p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * The last line is PyTorch's order of operations, so that parity tests agree to rounding.
 * One loop over the flat parameter block; the moments sit in parallel blocks.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

struct aifx_adam {
    aifx_adam_config cfg;
    size_t n;
    float *m; /* (n) first moment */
    float *v; /* (n) second moment */
    int64_t step;
};

aifx_adam_config aifx_adam_config_default(void)
{
    aifx_adam_config c = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f};
    return c;
}

static int config_valid(const aifx_adam_config *c)
{
    return isfinite(c->lr) && c->lr > 0.0f && c->beta1 >= 0.0f && c->beta1 < 1.0f &&
           c->beta2 >= 0.0f && c->beta2 < 1.0f && isfinite(c->eps) && c->eps > 0.0f &&
           isfinite(c->weight_decay) && c->weight_decay >= 0.0f;
}

aifx_status aifx_adam_new(size_t n, const aifx_adam_config *config, aifx_adam **out)
{
    if (!out)
        return AIFX_ERR_INVALID;
    *out = NULL;
    if (n == 0 || !config || !config_valid(config))
        return AIFX_ERR_INVALID;
    aifx_adam *a = aifx__calloc(1, sizeof(*a));
    if (!a)
        return AIFX_ERR_NOMEM;
    a->cfg = *config;
    a->n = n;
    a->m = aifx__falloc(n);
    a->v = a->m ? aifx__falloc(n) : NULL;
    if (!a->v) {
        aifx_adam_free(a);
        return AIFX_ERR_NOMEM;
    }
    *out = a;
    return AIFX_OK;
}

void aifx_adam_free(aifx_adam *adam)
{
    if (!adam)
        return;
    aifx__free(adam->m);
    aifx__free(adam->v);
    aifx__free(adam);
}

/* The update, element by element; the weight-decay test is outside the loop. */
static void adam_update_scalar(size_t i0, size_t n, float *params, const float *grads, float *m,
                               float *v, float b1, float b2, float eps, float step_size,
                               float bc2_sqrt)
{
    for (size_t i = i0; i < n; i++) {
        float g = grads[i];
        m[i] = m[i] * b1 + g * (1.0f - b1);
        v[i] = v[i] * b2 + g * g * (1.0f - b2);
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        params[i] -= step_size * (m[i] / denom);
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define ADAM_AVX2 1
/* The same operations in the same order on 8 floats (AVX2 without FMA: separate products and
 * sums, IEEE sqrt and division), so the bits equal the scalar loop's. GCC does not vectorise
 * that loop itself at -O2 (sqrtf keeps its errno check). */
__attribute__((target("avx2"))) static size_t
adam_update_avx2(size_t n, float *params, const float *grads, float *m, float *v, float b1,
                 float b2, float eps, float step_size, float bc2_sqrt)
{
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2);
    const __m256 c1 = _mm256_set1_ps(1.0f - b1), c2 = _mm256_set1_ps(1.0f - b2);
    const __m256 veps = _mm256_set1_ps(eps), vstep = _mm256_set1_ps(step_size);
    const __m256 vbc = _mm256_set1_ps(bc2_sqrt);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(grads + i);
        const __m256 mi =
            _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), vb1), _mm256_mul_ps(g, c1));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), vb2),
                                        _mm256_mul_ps(_mm256_mul_ps(g, g), c2));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), vbc), veps);
        const __m256 upd = _mm256_mul_ps(vstep, _mm256_div_ps(mi, denom));
        _mm256_storeu_ps(params + i, _mm256_sub_ps(_mm256_loadu_ps(params + i), upd));
    }
    return i;
}
#else
#define ADAM_AVX2 0
#endif

static void adam_update(size_t n, float *params, const float *grads, float *m, float *v, float b1,
                        float b2, float eps, float step_size, float bc2_sqrt, float decay,
                        int decayed)
{
    if (decayed)
        for (size_t i = 0; i < n; i++)
            params[i] *= decay;
    size_t i0 = 0;
#if ADAM_AVX2
    if (__builtin_cpu_supports("avx2"))
        i0 = adam_update_avx2(n, params, grads, m, v, b1, b2, eps, step_size, bc2_sqrt);
#endif
    adam_update_scalar(i0, n, params, grads, m, v, b1, b2, eps, step_size, bc2_sqrt);
}

aifx_status aifx_adam_step(aifx_adam *adam, float *params, const float *grads)
{
    if (!adam || !params || !grads)
        return AIFX_ERR_INVALID;
    if (!aifx__all_finite(adam->n, grads))
        return AIFX_ERR_NONFINITE;
    const aifx_adam_config *c = &adam->cfg;
    int64_t t = ++adam->step;
    double bc1 = 1.0 - pow((double)c->beta1, (double)t);
    double bc2 = 1.0 - pow((double)c->beta2, (double)t);
    const float step_size = (float)((double)c->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
    const float decay = c->weight_decay > 0.0f ? 1.0f - c->lr * c->weight_decay : 1.0f;
    adam_update(adam->n, params, grads, adam->m, adam->v, b1, b2, eps, step_size, bc2_sqrt, decay,
                c->weight_decay > 0.0f);
    return AIFX_OK;
}

aifx_status aifx_adam_get_config(const aifx_adam *adam, aifx_adam_config *out)
{
    if (!adam || !out)
        return AIFX_ERR_INVALID;
    *out = adam->cfg;
    return AIFX_OK;
}

aifx_status aifx__adam_set_config(aifx_adam *adam, const aifx_adam_config *config)
{
    if (!adam || !config || !config_valid(config))
        return AIFX_ERR_INVALID;
    adam->cfg = *config;
    return AIFX_OK;
}

aifx_status aifx_adam_set_lr(aifx_adam *adam, float lr)
{
    if (!adam || !isfinite(lr) || !(lr > 0.0f))
        return AIFX_ERR_INVALID;
    adam->cfg.lr = lr;
    return AIFX_OK;
}

aifx_status aifx_adam_reset(aifx_adam *adam)
{
    if (!adam)
        return AIFX_ERR_INVALID;
    memset(adam->m, 0, adam->n * sizeof(float));
    memset(adam->v, 0, adam->n * sizeof(float));
    adam->step = 0;
    return AIFX_OK;
}

aifx_status aifx_adam_state(aifx_adam *adam, size_t *n, float **m, float **v, int64_t *step)
{
    if (!adam)
        return AIFX_ERR_INVALID;
    if (n)
        *n = adam->n;
    if (m)
        *m = adam->m;
    if (v)
        *v = adam->v;
    if (step)
        *step = adam->step;
    return AIFX_OK;
}

aifx_status aifx_adam_set_step(aifx_adam *adam, int64_t step)
{
    if (!adam || step < 0)
        return AIFX_ERR_INVALID;
    adam->step = step;
    return AIFX_OK;
}

aifx_status aifx_clip_grad_norm(size_t n, float *grads, float max_norm, float *norm_out)
{
    if (n == 0 || !grads || !isfinite(max_norm) || !(max_norm > 0.0f))
        return AIFX_ERR_INVALID;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)grads[i] * grads[i];
    if (!isfinite(ss))
        return AIFX_ERR_NONFINITE;
    double norm = sqrt(ss);
    if (norm_out)
        *norm_out = (float)norm;
    double coef = (double)max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        float k = (float)coef;
        for (size_t i = 0; i < n; i++)
            grads[i] *= k;
    }
    return AIFX_OK;
}
