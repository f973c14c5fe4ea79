// libFuzzer target over every decoder of received bytes (decode_everything.hpp), for long
// coverage-guided runs next to the bounded CTest fuzz test:
//
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DMPP_FUZZ=ON -DMPP_BUILD_JOBS=OFF
//   cmake --build build-fuzz --target libfuzzer_decoders
//   build-fuzz/tests/libfuzzer_decoders -max_total_time=600 corpus/
#include <cstddef>
#include <cstdint>

#include "decode_everything.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mpp_fuzz::Outcomes outcomes;
  mpp_fuzz::decode_everything({reinterpret_cast<const char*>(data), size}, outcomes);
  return 0;
}
