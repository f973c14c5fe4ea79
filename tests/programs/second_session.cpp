// A second Session(argc, argv) is refused with advice that works: "nested" while the first runs,
// "after" once it ended (MPI cannot be initialised twice).
#include <cstring>
#include <iostream>
#include <mpp/mpp.hpp>
#include <string>

int main(int argc, char** argv) {
  const bool nested = argc > 1 && std::strcmp(argv[1], "nested") == 0;
  {
    mpp::Session session(argc, argv);
    if (nested) {
      std::string refusal;
      try {
        mpp::Session again(argc, argv);
      } catch (const mpp::UsageError& refused) {
        refusal = refused.what();
      }
      mpp::Pool pool;
      std::cout << "refused: " << refusal
                << "; first session still works: " << pool.apply([](int x) { return x + 1; }, 41) << std::endl;
    }
  }
  if (!nested) {
    try {
      mpp::Session again(argc, argv);
    } catch (const mpp::UsageError& refused) {
      std::cout << "refused: " << refused.what() << std::endl;
    }
  }
}
