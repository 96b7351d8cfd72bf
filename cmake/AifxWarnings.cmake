# AifxWarnings.cmake - aifx_target_warnings(<target>...): the project's warning flags, added
# PRIVATE to our own targets only (never to consumers), plus -Werror when AIFX_WERROR is on.

function(aifx_target_warnings)
    foreach(target IN LISTS ARGN)
        target_compile_options(${target} PRIVATE
            -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
            -Wcast-qual -Wformat=2 -Wvla
            $<$<BOOL:${AIFX_WERROR}>:-Werror>)
    endforeach()
endfunction()
