// The sweep: score a set of architectures with a set of proxies into the results database,
// resumable at any moment. Header torch-free (the CLI includes it); sweep.cpp holds the torch side.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nbz {

struct SweepOptions {
  std::string space = "nb201";
  std::string archs = "all";
  std::string shard;           // "" or "K/N"
  std::string proxies = "all";
  std::uint64_t seed = 0;
  int batch_size = 64;
  std::string batch_indices;   // "" = drawn with the seed; else a comma list (recorded)
  std::string dataset = "cifar10";  // cifar10 | cifar100 | imagenet16-120 (head and input size)
  std::string db_path;
  std::string data_dir;
  std::string device = "cpu";
  int threads = 0;             // 0 = all cores
  bool progress_bar = false;   // true: redraw a bar; false: periodic lines
  std::string command_line;    // recorded in run_sessions
  // NNGP split (proxies.md section 5): train / validation images drawn from the training images
  // with the seed, M networks per architecture.
  int nngp_train = 1000, nngp_val = 500, nngp_members = 4;
  std::string nngp_images = "cifar10-exact-4k";  // or cifar10-jpeg-50k (datasets/training_images.h)
};

struct SweepSummary {
  std::int64_t run_id = 0;
  std::int64_t archs_selected = 0, archs_already_done = 0, archs_scored = 0;
  std::int64_t rows_inserted = 0, failed_rows = 0;
  double seconds = 0;
  bool interrupted = false;
};

// Throws nbz::Error for bad options or files; rows stored before an error stay stored.
SweepSummary run_sweep(const SweepOptions& options);

// Scores one architecture without a database and returns a JSON object (proxy values, failures,
// timings, provenance): the `nasbench score` command and the Python cross-check use it.
std::string score_one_json(const SweepOptions& options, std::int64_t arch_index);

// Builds every network of the space and compares parameter counts with the benchmark; prints a
// summary (and each mismatch) to stdout and returns the number of mismatches.
std::int64_t check_space(const std::string& space, const std::string& data_dir, int threads);

}  // namespace nbz
