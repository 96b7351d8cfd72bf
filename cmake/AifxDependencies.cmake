# AifxDependencies.cmake - finds the libraries libaifxnn links against and defines them as the
# imported targets
#     aifx_dep::openblas   CBLAS from OpenBLAS (cblas.h, libopenblas)
#     aifx_dep::lapacke    LAPACKE (lapacke.h, liblapacke)
# It prefers pkg-config (Debian: modules `openblas` and `lapacke`) and falls back to find_path /
# find_library. The project includes it at configure time, and it is installed beside
# aifxnnConfig.cmake so that consumers of the static library aifxnn::aifxnn_static, whose
# link interface names these targets, get them too.
#
# Input:  AIFX_DEPS_REQUIRED  if true, a missing library is a fatal error (the project build);
#                             otherwise a message (an installed package, where only the static
#                             library needs them).
# Output: AIFX_DEPS_FOUND     true when both targets exist.
#         AIFX_DEPS_PC_MODULES  the pkg-config modules used (for Requires.private of aifxnn.pc).
#         AIFX_DEPS_PC_LIBS     the -l flags of libraries found without pkg-config (Libs.private).

if(TARGET aifx_dep::openblas AND TARGET aifx_dep::lapacke)
    set(AIFX_DEPS_FOUND TRUE)
    return()
endif()

find_package(PkgConfig QUIET)

set(AIFX_DEPS_PC_MODULES "")
set(AIFX_DEPS_PC_LIBS "")

# _aifx_find_dep(<name> <pkg-config module> <header> <library> <path suffixes...>)
function(_aifx_find_dep name module header library)
    set(target aifx_dep::${name})
    if(TARGET ${target})
        return()
    endif()
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(_AIFX_PC_${name} QUIET IMPORTED_TARGET ${module})
        if(_AIFX_PC_${name}_FOUND)
            add_library(${target} INTERFACE IMPORTED)
            target_link_libraries(${target} INTERFACE PkgConfig::_AIFX_PC_${name})
            set(AIFX_DEPS_PC_MODULES ${AIFX_DEPS_PC_MODULES} ${module} PARENT_SCOPE)
            return()
        endif()
    endif()
    set(suffixes "")
    if(ARGN)
        set(suffixes PATH_SUFFIXES ${ARGN})
    endif()
    find_path(AIFX_${name}_INCLUDE_DIR ${header} ${suffixes})
    find_library(AIFX_${name}_LIBRARY ${library} ${suffixes})
    if(AIFX_${name}_INCLUDE_DIR AND AIFX_${name}_LIBRARY)
        add_library(${target} INTERFACE IMPORTED)
        target_include_directories(${target} INTERFACE ${AIFX_${name}_INCLUDE_DIR})
        target_link_libraries(${target} INTERFACE ${AIFX_${name}_LIBRARY})
        set(AIFX_DEPS_PC_LIBS ${AIFX_DEPS_PC_LIBS} -l${library} PARENT_SCOPE)
    endif()
endfunction()

# The net's thread pool (libaifxnn/pool.c) uses POSIX threads.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
set(AIFX_DEPS_PC_LIBS -pthread)

_aifx_find_dep(openblas openblas cblas.h openblas openblas-pthread openblas-openmp openblas)
_aifx_find_dep(lapacke lapacke lapacke.h lapacke)

if(TARGET aifx_dep::openblas AND TARGET aifx_dep::lapacke)
    set(AIFX_DEPS_FOUND TRUE)
else()
    set(AIFX_DEPS_FOUND FALSE)
    string(CONCAT _aifx_deps_msg "aifxnn: OpenBLAS (CBLAS) or LAPACKE not found; on Debian "
                  "install libopenblas-dev and liblapacke-dev")
    if(AIFX_DEPS_REQUIRED)
        message(FATAL_ERROR "${_aifx_deps_msg}")
    else()
        message(STATUS "${_aifx_deps_msg} (needed only to link aifxnn::aifxnn_static)")
    endif()
endif()
