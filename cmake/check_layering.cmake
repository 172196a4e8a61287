# The layering test (ctest `layering`): cmake -DSOURCE_DIR=... -DSTAGES="core:;plan9:core;..." -P this file.
#
# 1. A stage's library sources and public headers include only their own stage and the stages it uses
#    (STAGES: "stage:used,used"); tests may use any stage as a fixture.
# 2. Private headers (`name_p.hpp`) are included only from their own folder, never through "../".
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

if(problems)
  message(FATAL_ERROR "layering:\n${problems}")
endif()
message(STATUS "layering: every stage includes only the stages it uses")
