/*
 * threads.h - how many threads train and evaluate models, for the whole process.
 *
 * libaifxnn splits a training batch over its worker threads (aifx_model_config.n_threads). On the
 * packed kernel path (CPUs with AVX2 and FMA) the result does not depend on their number, to the
 * byte, so this is a speed setting only: a version trained on a host of 2 cores has the bytes of
 * one trained on a host of 8 (docs/performance.md). The cycles create and load their models with
 * tr_train_threads() threads; OpenBLAS is held at one thread of its own, since every BLAS call
 * already runs on one of the library's workers (and its own split would make the bits depend on
 * OPENBLAS_NUM_THREADS).
 */
#ifndef TR_THREADS_H
#define TR_THREADS_H

#define TR_TRAIN_THREADS_MAX 64
/* The accepted values, as usage errors name them. */
#define TR_TRAIN_THREADS_RANGE "auto or 1 .. 64"

/* Sets the count: n in 1 .. TR_TRAIN_THREADS_MAX, or 0 for the default, the CPUs this process may
 * run on (sched_getaffinity), at most 2 (training the 64-unit model scales little past 2). Also
 * sets OpenBLAS to one thread when the BLAS is OpenBLAS. -1 for n out of range. */
int tr_train_threads_set(int n);

/* The count (the default until tr_train_threads_set). */
int tr_train_threads(void);

/* Parses a --train-threads value ("auto" or 1 .. TR_TRAIN_THREADS_MAX) into *n (0 for auto);
 * -1 if it is neither. */
int tr_train_threads_parse(const char *s, int *n);

#endif
