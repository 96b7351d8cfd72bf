/*
 * consumer.c - a program outside the project that uses only the installed public header and
 * library: it prints the version, builds a tiny network, predicts on a zero input and checks
 * that each row of probabilities sums to 1. Exit status 0 on success, 1 on any failure.
 */
#include <stdio.h>

#include <aifxnn.h>

#define N_BATCH   2
#define N_STEPS   5
#define N_IN      3
#define N_CLASSES 3

static int check(aifx_status st, const char *what)
{
    if (st != AIFX_OK) {
        fprintf(stderr, "consumer: %s: %s\n", what, aifx_strerror(st));
        return 1;
    }
    return 0;
}

int main(void)
{
    aifx_net_config cfg = aifx_net_config_default();
    aifx_net *net = NULL;
    aifx_rng rng;
    float x[N_BATCH * N_STEPS * N_IN] = {0}; /* (B, T, F) */
    float probs[N_BATCH * N_CLASSES];        /* (B, C) */
    int failed = 0;

    printf("aifxnn %s\n", aifx_version_string());

    cfg.n_in = N_IN;
    cfg.n_steps = N_STEPS;
    cfg.n_layers = 1;
    cfg.n_hidden = 4;
    cfg.n_classes = N_CLASSES;
    cfg.max_batch = N_BATCH;

    if (check(aifx_net_new(&cfg, &net), "aifx_net_new") ||
        check(aifx_rng_seed(&rng, 42), "aifx_rng_seed") ||
        check(aifx_net_init(net, &rng), "aifx_net_init") ||
        check(aifx_net_predict(net, N_BATCH, x, probs, NULL), "aifx_net_predict")) {
        aifx_net_free(net);
        return 1;
    }
    for (int b = 0; b < N_BATCH; b++) {
        double sum = 0.0;
        const float *p = probs + b * N_CLASSES;
        for (int j = 0; j < N_CLASSES; j++)
            sum += p[j];
        printf("row %d: p = (%.6f, %.6f, %.6f), sum %.7f\n", b, p[0], p[1], p[2], sum);
        if (!(sum > 1.0 - 1e-5 && sum < 1.0 + 1e-5)) {
            fprintf(stderr, "consumer: probabilities of row %d sum to %.7f, not 1\n", b, sum);
            failed = 1;
        }
    }
    aifx_net_free(net);
    return failed;
}
