# mpp_add_mpi_test(<target> RANKS <n>... [TIMEOUT <s>] [SUFFIX <s>] [ENV <var=value>...] [ARGS <arg>...])
# Registers <target> once per rank count as <target>[.<suffix>].np<n>, launched through mpiexec.
# Open MPI gets --oversubscribe (more ranks than cores is how we test on a laptop) and the two
# variables that let it run as root, which CI and containers do.
execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _mpp_mpiexec_version ERROR_QUIET)
set(MPP_MPIEXEC_PREFLAGS "")
set(MPP_MPIEXEC_ENV "")
if(_mpp_mpiexec_version MATCHES "Open MPI|OpenRTE")
  set(MPP_MPIEXEC_PREFLAGS --oversubscribe)
  set(MPP_MPIEXEC_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1)
endif()

function(mpp_add_mpi_test target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT;SUFFIX" "RANKS;ARGS;ENV")
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 240)  # bounds a hang; sized for a loaded 2-core machine
  endif()
  foreach(n IN LISTS arg_RANKS)
    set(name ${target}.np${n})
    if(arg_SUFFIX)
      set(name ${target}.${arg_SUFFIX}.np${n})
    endif()
    add_test(NAME ${name}
      COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} ${MPP_MPIEXEC_PREFLAGS} ${MPIEXEC_PREFLAGS}
              $<TARGET_FILE:${target}> ${MPIEXEC_POSTFLAGS} ${arg_ARGS})
    set_tests_properties(${name} PROPERTIES TIMEOUT ${arg_TIMEOUT} ENVIRONMENT "${MPP_MPIEXEC_ENV};${arg_ENV}"
      PROCESSORS ${n})
  endforeach()
endfunction()
