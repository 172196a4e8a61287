# The install-consumer test (ctest install.consumer):
# 1. installs the build tree into a scratch prefix, then configures, builds and runs the consumer against it
#    (the README's worked example: natively, probed, and under Wine with the unwind check);
# 2. moves that prefix elsewhere and, with the source and build trees hidden (a private mount namespace with
#    an empty tmpfs over each), runs the moved `w64stub verify` and `w64stub run --host wine`: the installed
#    package must not need either tree.
# Needs root or unprivileged user namespaces (unshare(1) from util-linux) for step 2.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/testdata/consumer -B ${WORK_DIR}/build
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
# The consumer finds winrun.exe in the prefix's share/w64stub, and keeps its Wine prefix in the build tree.
execute_process(COMMAND ${CMAKE_COMMAND} -E env W64STUB_DATA_DIR=${WORK_DIR}/prefix/share/w64stub
                        W64STUB_WINEPREFIX=${BINARY_DIR}/wineprefix ${WORK_DIR}/build/consumer
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc)
  message(FATAL_ERROR "the consumer failed (${rc}): ${out}${err}")
endif()
message(STATUS "${out}")

# 2. The prefix, moved out of the build tree; the original is gone.
string(RANDOM LENGTH 8 ALPHABET abcdefghijklmnopqrstuvwxyz tag)
set(moved /tmp/w64stub-moved-${tag})
file(REMOVE_RECURSE ${moved})
file(COPY ${WORK_DIR}/prefix/ DESTINATION ${moved}/prefix)
file(REMOVE_RECURSE ${WORK_DIR}/prefix)
set(hide "mount -t tmpfs none '${BINARY_DIR}' && mount -t tmpfs none '${SOURCE_DIR}'")
set(env "W64STUB_WINEPREFIX=${moved}/wineprefix")
function(hidden_run out_var)
  foreach(unshare_flags "-m" "-rm")
    execute_process(COMMAND unshare ${unshare_flags} --propagation private
                            sh -c "${hide} && test ! -e '${SOURCE_DIR}/CMakeLists.txt' && env ${env} \"$@\"" sh ${ARGN}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT err MATCHES "unshare failed|Operation not permitted|mount: ")
      set(${out_var} "${out}" PARENT_SCOPE)
      set(${out_var}_rc "${rc}" PARENT_SCOPE)
      set(${out_var}_err "${err}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  file(REMOVE_RECURSE ${moved})
  message(FATAL_ERROR "cannot hide the source and build trees (unshare -m needs root, unshare -rm user "
                      "namespaces; run the tests as root to enable this check): ${err}")
endfunction()

hidden_run(verify ${moved}/prefix/bin/w64stub verify)
if(NOT verify_rc EQUAL 0 OR NOT verify MATCHES "48 match, 0 mismatch, 6 refused")
  file(REMOVE_RECURSE ${moved})
  message(FATAL_ERROR "the moved w64stub verify failed (${verify_rc}): ${verify}${verify_err}")
endif()
# fixed is misaligned at both CALLs (exit 1); what matters is that it ran and printed the message.
hidden_run(wine ${moved}/prefix/bin/w64stub run badcallback --variant fixed --host wine)
file(REMOVE_RECURSE ${moved})
if(wine_rc GREATER 1 OR NOT wine MATCHES "stderr: \"runtime: cgo callback on thread not created by Go.\\\\n\"")
  message(FATAL_ERROR "the moved w64stub run --host wine failed (${wine_rc}): ${wine}${wine_err}")
endif()
message(STATUS "the moved prefix verifies 48 references and runs badcallback under Wine without the trees")
