// Misuse: a shared Value holds a 4- or 8-byte arithmetic type, not a string.
#include <mpp/mpp.hpp>
#include <string>

#ifdef MPP_MISUSE
using Stored = std::string;
#else
using Stored = long;
#endif

void use() { mpp::Value<Stored> value; }
