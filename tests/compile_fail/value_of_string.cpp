// Misuse: a shared Value holds an arithmetic type of 1, 2, 4 or 8 bytes, not a string.
#include <mpp/mpp.hpp>
#include <string>

#ifdef MPP_MISUSE
using Stored = std::string;
#else
using Stored = long;
#endif

void use() { mpp::Value<Stored> value; }
