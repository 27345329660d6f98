# DbalFlags.cmake - the compiler and linker flags of dbal's own targets,
# as interface targets that each target links PRIVATE (never
# add_compile_options: a project that builds dbal with add_subdirectory()
# keeps its own flags, and its targets never get dbal's):
#
#   dbal_warnings   the warnings, and -Werror when DBAL_WERROR is ON
#   dbal_sanitize   -fsanitize=${DBAL_SANITIZE} (compile and link); with
#                   DBAL_FUZZ (clang) the fuzzing build's instrumentation,
#                   and DBAL_FUZZING is set
#   dbal_build      both: what every dbal target links
#   dbal_shipped    what the shipped code (libdbal, the util library in it
#                   and in the drivers, the in-tree drivers) adds: -fno-plt
#
# Included from the top-level CMakeLists.txt after the options are set.

add_library(dbal_warnings INTERFACE)
target_compile_options(dbal_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Wundef
  -Wno-unused-parameter -Wno-missing-field-initializers
  $<$<BOOL:${DBAL_WERROR}>:-Werror>)

add_library(dbal_sanitize INTERFACE)
set(DBAL_SANITIZING OFF)
# The fuzzing build (fuzz/run): the core, built once, carries libFuzzer's
# coverage instrumentation, and everything runs under ASan + UBSan. The
# fuzz targets add -fsanitize=fuzzer (libFuzzer's main) at their link.
set(DBAL_FUZZING OFF)
if(DBAL_FUZZ AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(WARNING "DBAL_FUZZ=ON needs clang (CC=clang cmake ...); the fuzz targets are not built")
elseif(DBAL_FUZZ AND DBAL_SANITIZE MATCHES "thread|memory")
  message(WARNING "DBAL_FUZZ=ON uses AddressSanitizer, which cannot be combined with DBAL_SANITIZE=${DBAL_SANITIZE}; "
                  "the fuzz targets are not built")
elseif(DBAL_FUZZ)
  set(DBAL_FUZZING ON)
endif()
if(DBAL_FUZZING)
  target_compile_options(dbal_sanitize INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                                                 -fno-omit-frame-pointer -g)
  target_link_options(dbal_sanitize INTERFACE -fsanitize=address,undefined)
  set(DBAL_SANITIZING ON)
elseif(DBAL_SANITIZE)
  target_compile_options(dbal_sanitize INTERFACE -fsanitize=${DBAL_SANITIZE} -fno-omit-frame-pointer
                                                 -fno-sanitize-recover=all)
  target_link_options(dbal_sanitize INTERFACE -fsanitize=${DBAL_SANITIZE})
  set(DBAL_SANITIZING ON)
endif()

add_library(dbal_build INTERFACE)
target_link_libraries(dbal_build INTERFACE dbal_warnings dbal_sanitize)

# A shared object links with --no-undefined, so that a missing symbol is a
# link error rather than a failure to load; except when clang sanitizes:
# its sanitizer runtime is linked into the program, not into the library.
if(DBAL_SANITIZING AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(DBAL_NO_UNDEFINED "")
else()
  set(DBAL_NO_UNDEFINED -Wl,--no-undefined)
endif()

# -fno-plt: a call into another shared object (sqlite3, libpq, libc) goes
# through its GOT entry, one indirect call, where the PLT adds a jump: a
# driver makes several per row and per statement (bench W3: 19
# instructions a row). The GOT entries are then bound when the object
# loads, not at first call: every symbol must resolve then, which
# -Wl,--no-undefined already guarantees at link time; interposition
# (LD_PRELOAD, sanitizer interceptors) works the same. Calls within an
# object never used the PLT (hidden symbols).
include(CheckCCompilerFlag)
check_c_compiler_flag(-fno-plt DBAL_HAVE_NO_PLT)
add_library(dbal_shipped INTERFACE)
if(DBAL_HAVE_NO_PLT)
  target_compile_options(dbal_shipped INTERFACE -fno-plt)
endif()
