# AifxCheck.cmake - one Check suite per module, each its own ctest entry.
#
#     aifx_add_check_suite(<name> SOURCES <files...> [LIBS <targets...>])
#
# builds the executable check_<name> from the sources, linked with the static library
# (aifxnn_static, so internals are reachable), Check, libm and LIBS, and registers it as the
# ctest test <name>. The sources may include "aifxnn.h" and the library's private "internal.h",
# and see two string macros:
#     AIFX_TEST_FIXTURES  <source root>/tests/fixtures  (committed fixture files)
#     AIFX_SHARED_DATA    <source root>/../shared/data  (real market data; may be absent, and a
#                         test that needs it skips when the folder does not exist)
# With AIFX_SANITIZE the test runs with CK_FORK=no (sanitizers and fork do not mix), leak
# detection on, UBSan halting with a stack trace, and OpenBLAS on one thread (its idle workers
# spin in sched_yield and took a core from the other test ctest -j2 runs). Every test has a
# timeout of AIFX_TEST_TIMEOUT (300 s), three times that under sanitizers, which slow the
# real-data suites about fivefold.
# When AIFX_BUILD_TESTS is OFF the function does nothing, so callers need no guard.
#
#     aifx_test_defaults(<test>...)
#
# gives tests registered with a plain add_test() the same timeout and sanitizer environment.

if(AIFX_BUILD_TESTS)
    find_package(PkgConfig REQUIRED)
    # Debian's check.pc brings -pthread -lrt -lm -lsubunit.
    pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
endif()

# Paths from this file's place, so that a subdirectory that calls project() changes nothing.
get_filename_component(AIFX_CHECK_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
get_filename_component(AIFX_TEST_FIXTURES_DIR "${AIFX_CHECK_ROOT}/tests/fixtures" ABSOLUTE)
get_filename_component(AIFX_SHARED_DATA_DIR "${AIFX_CHECK_ROOT}/../shared/data" ABSOLUTE)
set(AIFX_TEST_TIMEOUT 300 CACHE STRING "Timeout in seconds of each ctest test")

function(aifx_add_check_suite name)
    if(NOT AIFX_BUILD_TESTS)
        return()
    endif()
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;LIBS")
    if(arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "aifx_add_check_suite(${name}): unexpected ${arg_UNPARSED_ARGUMENTS}")
    endif()
    if(NOT arg_SOURCES)
        message(FATAL_ERROR "aifx_add_check_suite(${name}): SOURCES is required")
    endif()

    set(exe check_${name})
    add_executable(${exe} ${arg_SOURCES})
    target_include_directories(${exe} PRIVATE
        ${AIFX_CHECK_ROOT}/include ${AIFX_CHECK_ROOT}/libaifxnn)
    target_compile_definitions(${exe} PRIVATE
        "AIFX_TEST_FIXTURES=\"${AIFX_TEST_FIXTURES_DIR}\""
        "AIFX_SHARED_DATA=\"${AIFX_SHARED_DATA_DIR}\"")
    target_link_libraries(${exe} PRIVATE ${arg_LIBS} aifxnn_static PkgConfig::CHECK m)
    aifx_target_warnings(${exe})

    add_test(NAME ${name} COMMAND ${exe})
    aifx_test_defaults(${name})
endfunction()

# aifx_test_defaults(<test>...): the timeout and, with AIFX_SANITIZE, the sanitizer environment
# above, for tests registered with a plain add_test() (e.g. runs of a program).
function(aifx_test_defaults)
    foreach(test IN LISTS ARGN)
        set_tests_properties(${test} PROPERTIES TIMEOUT ${AIFX_TEST_TIMEOUT})
        if(AIFX_SANITIZE)
            math(EXPR _timeout "${AIFX_TEST_TIMEOUT} * 3")
            set_tests_properties(${test} PROPERTIES TIMEOUT ${_timeout})
            set_tests_properties(${test} PROPERTIES ENVIRONMENT
                "CK_FORK=no;OPENBLAS_NUM_THREADS=1;ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
        endif()
    endforeach()
endfunction()
