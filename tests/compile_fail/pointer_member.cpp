// Misuse: a struct with a pointer member would travel as raw bytes, the pointer with it.
#include <mpp/mpp.hpp>
#include <vector>

struct Particle {
  double mass;
#ifdef MPP_MISUSE
  const double* position;
#else
  double position[3];
#endif
};

double weigh(std::vector<Particle> particles) { return particles.empty() ? 0.0 : particles.front().mass; }

void use(mpp::Pool& pool) { pool.apply(weigh, std::vector<Particle>{}); }
