/*
 * check_main.h - the main() every Check suite shares: run the suite, exit non-zero on failure.
 */
#ifndef AIFX_CHECK_MAIN_H
#define AIFX_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define AIFX_CHECK_MAIN(make_suite)                                                                \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(make_suite());                                                \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int n_failed = srunner_ntests_failed(sr);                                                  \
        srunner_free(sr);                                                                          \
        return n_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                        \
    }

#endif
