// Slow, obvious float64 linear algebra for golden tests: independent of LAPACK, so that a value
// the suite computes with torch::linalg can be checked against a second computation.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace nbz::test {

// Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (unsorted).
inline std::vector<double> jacobi_eigenvalues(std::vector<std::vector<double>> a) {
  const size_t n = a.size();
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = p + 1; q < n; ++q) off += a[p][q] * a[p][q];
    if (off < 1e-30) break;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = p + 1; q < n; ++q) {
        if (std::abs(a[p][q]) < 1e-300) continue;
        const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; ++k) {
          const double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; ++k) {
          const double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
      }
  }
  std::vector<double> eig(n);
  for (size_t i = 0; i < n; ++i) eig[i] = a[i][i];
  return eig;
}

inline double smallest_eigenvalue(const std::vector<std::vector<double>>& a) {
  const auto eig = jacobi_eigenvalues(a);
  return *std::min_element(eig.begin(), eig.end());
}

}  // namespace nbz::test
