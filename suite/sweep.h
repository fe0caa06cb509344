// The sweep: score a set of architectures with a set of proxies into the results database,
// resumable at any moment. Header torch-free (the CLI includes it); sweep.cpp holds the torch side.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nbz {

struct SweepOptions {
  std::string space = "nb201";  // nb201 | nb101
  std::string archs = "all";
  std::string shard;           // "" or "K/N"
  std::string proxies = "all";
  std::uint64_t seed = 0;
  int batch_size = 0;          // 0 = the space's standard (default_batch_size)
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
  // NTK time evolution (proxies/ntk_evolution.h): the epochs k after which the requested NTK
  // metrics and lga are computed again ("0" = at initialisation only), and the images trained on.
  std::string train_epochs = "0";
  std::string train_images = "cifar10-exact-4k";
};

struct SweepSummary {
  std::int64_t run_id = 0;
  std::int64_t archs_selected = 0, archs_already_done = 0, archs_scored = 0;
  std::int64_t rows_inserted = 0, failed_rows = 0;
  double seconds = 0;
  bool interrupted = false;
};

// The standard minibatch of a space (proxies.md section 0): 64 for NB201, 128 for NB101.
int default_batch_size(const std::string& space);

// Checks what needs no data: a known --space, a --dataset that space is defined on (NB101:
// cifar10 only), a positive --batch when given. Throws nbz::Error naming the value.
void check_space_options(const SweepOptions& options);

// Throws nbz::Error for bad options or files; rows stored before an error stay stored.
SweepSummary run_sweep(const SweepOptions& options);

// Scores one architecture without a database and returns a JSON object (proxy values, failures,
// timings, provenance): the `nasbench score` command and the Python cross-check use it.
std::string score_one_json(const SweepOptions& options, std::int64_t arch_index);

// Builds every network of the space and compares parameter counts with the benchmark; prints a
// summary (and each mismatch) to stdout and returns the number of mismatches. NB101: the
// enumeration (423,624 hashes), the hash of every ground-truth spec against its stored hash and
// its presence in the space, and the parameter count of every ground-truth row.
std::int64_t check_space(const std::string& space, const std::string& data_dir, int threads);

}  // namespace nbz
