/* testhook.c - the test hooks' storage (testhook.h); nothing in production sets them. */
#include "cycles/testhook.h"

int (*tr_testhook_epoch)(const char *cycle, int epoch) = NULL;
int (*tr_testhook_point)(const char *cycle, const char *point) = NULL;
int (*tr_testhook_step)(size_t steps_run) = NULL;
int (*tr_testhook_wf_step)(size_t steps_done) = NULL;
