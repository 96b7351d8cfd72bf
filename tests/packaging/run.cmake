# run.cmake - the `packaging` test (cmake -P). Installs the already-built tree to a scratch
# prefix, then proves that an external program builds and runs against the installed library:
#   1. a CMake project (this folder's CMakeLists.txt) through find_package(aifxnn), linking
#      aifxnn::aifxnn (shared) and aifxnn::aifxnn_static;
#   2. `cc consumer.c $(pkg-config --cflags --libs aifxnn)` with PKG_CONFIG_PATH on the prefix.
# Inputs (-D): AIFX_BUILD_DIR, AIFX_CONSUMER_DIR, AIFX_WORK_DIR, AIFX_LIBDIR (GNUInstallDirs'
# libdir, relative), AIFX_CONFIG, AIFX_C_COMPILER, AIFX_GENERATOR.

foreach(var AIFX_BUILD_DIR AIFX_CONSUMER_DIR AIFX_WORK_DIR AIFX_LIBDIR AIFX_C_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "packaging: ${var} is not set")
    endif()
endforeach()
if(NOT AIFX_CONFIG)
    set(AIFX_CONFIG Release)
endif()

set(prefix ${AIFX_WORK_DIR}/prefix)
set(cmake_build ${AIFX_WORK_DIR}/consumer-cmake)
set(pc_exe ${AIFX_WORK_DIR}/consumer-pkgconfig)
if(IS_ABSOLUTE "${AIFX_LIBDIR}")
    set(libdir ${AIFX_LIBDIR})
else()
    set(libdir ${prefix}/${AIFX_LIBDIR})
endif()

# run(<what> <command...>): runs a command, fails the test with its output if it fails.
function(run what)
    execute_process(COMMAND ${ARGN}
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc STREQUAL "0")
        string(REPLACE ";" " " cmd "${ARGN}")
        message(FATAL_ERROR "packaging: ${what} FAILED (exit ${rc})\n"
                            "command: ${cmd}\n--- stdout ---\n${out}\n--- stderr ---\n${err}")
    endif()
    message(STATUS "packaging: ${what}: ok")
    set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${AIFX_WORK_DIR})
file(MAKE_DIRECTORY ${AIFX_WORK_DIR})

run("install to ${prefix}"
    ${CMAKE_COMMAND} --install ${AIFX_BUILD_DIR} --prefix ${prefix} --config ${AIFX_CONFIG})
foreach(f include/aifxnn.h ${AIFX_LIBDIR}/pkgconfig/aifxnn.pc
          ${AIFX_LIBDIR}/cmake/aifxnn/aifxnnConfig.cmake
          ${AIFX_LIBDIR}/cmake/aifxnn/aifxnnConfigVersion.cmake ${AIFX_LIBDIR}/libaifxnn.a)
    if(NOT EXISTS ${prefix}/${f})
        message(FATAL_ERROR "packaging: the install did not produce ${prefix}/${f}")
    endif()
endforeach()

# 1. find_package(aifxnn) from a separate CMake project.
set(generator_args "")
if(AIFX_GENERATOR)
    set(generator_args -G ${AIFX_GENERATOR})
endif()
run("configure the find_package consumer"
    ${CMAKE_COMMAND} -S ${AIFX_CONSUMER_DIR} -B ${cmake_build} ${generator_args}
        -DCMAKE_BUILD_TYPE=${AIFX_CONFIG}
        -DCMAKE_C_COMPILER=${AIFX_C_COMPILER}
        -DCMAKE_PREFIX_PATH=${prefix})
run("build the find_package consumer"
    ${CMAKE_COMMAND} --build ${cmake_build} --config ${AIFX_CONFIG})
foreach(exe consumer consumer_static)
    find_program(path_${exe} ${exe} PATHS ${cmake_build} ${cmake_build}/${AIFX_CONFIG}
                 NO_DEFAULT_PATH NO_CACHE REQUIRED)
    run("run the find_package consumer ${exe}" ${path_${exe}})
    message(STATUS "${run_output}")
endforeach()

# 2. pkg-config aifxnn, as a Makefile would use it.
find_program(pkg_config NAMES pkg-config pkgconf)
if(NOT pkg_config)
    message(FATAL_ERROR "packaging: pkg-config not found (Debian: apt-get install pkg-config)")
endif()
run("pkg-config --cflags --libs aifxnn"
    ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${libdir}/pkgconfig
        ${pkg_config} --cflags --libs aifxnn)
string(STRIP "${run_output}" pc_flags)
message(STATUS "packaging: pkg-config flags: ${pc_flags}")
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
run("compile the pkg-config consumer"
    ${AIFX_C_COMPILER} -std=c11 -Wall -Wextra -Werror ${AIFX_CONSUMER_DIR}/consumer.c
        ${pc_flags} -Wl,-rpath,${libdir} -o ${pc_exe})
run("run the pkg-config consumer" ${pc_exe})
message(STATUS "${run_output}")
