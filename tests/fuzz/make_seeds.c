/*
 * make_seeds.c - writes the fuzz target's seed corpus: two tiny valid checkpoints, without and
 * with training state. Run by scripts/fuzz.sh --seeds; the files are committed, and
 * tests/check_checkpoint.c checks that they still load.
 */
#include <stdio.h>
#include <stdlib.h>

#include "aifxnn.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    aifx_model_config c = aifx_model_config_default();
    c.n_features = 2, c.n_steps = 3, c.n_hidden = 2, c.n_classes = 2, c.batch_size = 4;
    c.seed = 1;
    aifx_model *m;
    if (aifx_model_new(&c, &m) != AIFX_OK)
        return 1;
    float x[8 * 3 * 2];
    int32_t y[8];
    for (int i = 0; i < 48; i++)
        x[i] = (float)((i * 7) % 11) - 5.0f;
    for (int i = 0; i < 8; i++)
        y[i] = i % 2;
    aifx_dataset d = {x, 24, NULL, y, 8};
    aifx_fit_config fc = aifx_fit_config_default();
    fc.epochs = 2;
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/tiny.ckpt", argv[1]);
    if (aifx_model_fit_scaler(m, &d) != AIFX_OK || aifx_model_save(m, path, 0, err, 256) != AIFX_OK)
        return 1;
    snprintf(path, sizeof(path), "%s/tiny-state.ckpt", argv[1]);
    if (aifx_model_fit(m, &d, &d, &fc, NULL) != AIFX_OK ||
        aifx_model_save(m, path, 1, err, sizeof(err)) != AIFX_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    aifx_model_free(m);
    return 0;
}
