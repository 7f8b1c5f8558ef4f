# Project-wide compile settings and the helpers every layer uses.
add_compile_options(-Wall -Wextra -Wno-missing-field-initializers)
if(SAMIZDAT_SANITIZE)
  add_compile_options(-fsanitize=${SAMIZDAT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SAMIZDAT_SANITIZE})
endif()
if(SAMIZDAT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SAMIZDAT_FUZZ needs clang: configure with CXX=clang++ CC=clang")
  endif()
  # -fno-sanitize=function: clang 14 fails on coroutines (Asio co_await) with "Cannot represent a
  # difference across sections" otherwise (llvm/llvm-project#49689).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# samizdat_layer(NAME DEPS...): a static library from every .cpp under src/NAME
# (recursively), so adding a file to a layer needs no CMake edit.
function(samizdat_layer name)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(samizdat_${name} STATIC ${sources})
  target_include_directories(samizdat_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  target_link_libraries(samizdat_${name} PUBLIC ${ARGN})
endfunction()

# samizdat_tests(LAYER DEPS...): one GoogleTest executable per tests/LAYER/*_test.cpp,
# so a test file is independent of its neighbours.
function(samizdat_tests layer)
  file(GLOB test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  foreach(source ${test_sources})
    get_filename_component(stem ${source} NAME_WE)
    set(target test_${layer}_${stem})
    add_executable(${target} ${source})
    # samizdat_test_pch (tests/CMakeLists.txt): -O0, SAMIZDAT_SOURCE_DIR/BINARY_DIR, and the
    # shared precompiled header.
    target_link_libraries(${target} PRIVATE ${ARGN} samizdat_test_support samizdat_test_pch GTest::gtest_main)
    target_precompile_headers(${target} REUSE_FROM samizdat_test_pch)
    # The executable name as prefix, so `ctest -R <layer or area>` (e.g. -R noise) selects tests.
    gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60 TEST_PREFIX "${target}."
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTIES LABELS ${layer})
  endforeach()
endfunction()

# samizdat_fuzz_target(NAME SOURCE DEPS...): a libFuzzer binary (SAMIZDAT_FUZZ builds
# only) and a ctest smoke run over its corpus plus a few seconds of fresh inputs.
function(samizdat_fuzz_target name source)
  if(NOT SAMIZDAT_FUZZ)
    return()
  endif()
  add_executable(fuzz_${name} ${source})
  target_link_libraries(fuzz_${name} PRIVATE ${ARGN})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzz_targets fuzz_${name})
  set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  file(MAKE_DIRECTORY ${corpus})
  add_test(NAME fuzz_smoke_${name}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
      $<TARGET_FILE:fuzz_${name}> -max_total_time=${SAMIZDAT_FUZZ_SMOKE_SECONDS}
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work-${name} ${corpus})
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work-${name})
  set_tests_properties(fuzz_smoke_${name} PROPERTIES LABELS fuzz)
endfunction()
set(SAMIZDAT_FUZZ_SMOKE_SECONDS 10 CACHE STRING "seconds of fresh inputs per fuzz target in the smoke run")
include(GoogleTest)
