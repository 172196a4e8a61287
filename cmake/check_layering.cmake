# The layering test (ctest `layering`): cmake -DSOURCE_DIR=... -DSTAGES="core:;plan9:core;..." -P this file.
#
# 1. A stage's library sources and public headers include only their own stage and the stages it uses
#    (STAGES: "stage:used,used"); tests may use any stage as a fixture.
# 2. Private headers (`name_p.hpp`) are included only from their own folder, never through "../".
# 3. Windows functions stay in their plug-ins: WriteFile is named only by the stand-ins, the catalog and
#    tests (and by test data, the reference generator and the docs, which this does not read).
cmake_minimum_required(VERSION 3.25)
set(problems "")

foreach(entry IN LISTS STAGES)
  string(REPLACE ":" ";" parts "${entry}")
  list(GET parts 0 stage)
  list(LENGTH parts n)
  set(uses "")
  if(n GREATER 1)
    list(GET parts 1 uses)
    string(REPLACE "," ";" uses "${uses}")
  endif()
  file(GLOB files ${SOURCE_DIR}/src/${stage}/*.cpp ${SOURCE_DIR}/src/${stage}/*.hpp
                  ${SOURCE_DIR}/include/w64stub/${stage}/*.hpp)
  list(FILTER files EXCLUDE REGEX "_test\\.cpp$")
  foreach(file IN LISTS files)
    file(STRINGS ${file} includes REGEX "^#include \"")
    foreach(line IN LISTS includes)
      if(line MATCHES "^#include \"w64stub/([a-z0-9]+)/")
        set(used ${CMAKE_MATCH_1})
        if(NOT used STREQUAL stage AND NOT used IN_LIST uses)
          string(APPEND problems "${file}: stage ${stage} includes stage ${used} (it uses only: ${uses})\n")
        endif()
      elseif(line MATCHES "^#include \"\\.\\./")
        string(APPEND problems "${file}: includes another folder's file directly: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()

file(GLOB_RECURSE code ${SOURCE_DIR}/src/*.cpp ${SOURCE_DIR}/src/*.hpp ${SOURCE_DIR}/include/*.hpp
                        ${SOURCE_DIR}/tools/*.cpp ${SOURCE_DIR}/tools/*.hpp ${SOURCE_DIR}/cmake/*.cmake)
foreach(file IN LISTS code)
  if(file MATCHES "_test\\.cpp$|/src/testing/|/exec/standins|/src/catalog/|/include/w64stub/catalog/|check_layering")
    continue()
  endif()
  file(STRINGS ${file} hits REGEX "WriteFile")
  if(hits)
    list(GET hits 0 first)
    string(APPEND problems "${file}: names WriteFile outside the stand-ins and the catalog: ${first}\n")
  endif()
endforeach()


if(problems)
  message(FATAL_ERROR "layering:\n${problems}")
endif()
message(STATUS "layering: every stage includes only the stages it uses")
