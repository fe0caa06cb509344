#include "suite/sweep.h"

#include <SQLiteCpp/Exception.h>
#include <torch/torch.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "benchmarks_db/results_db.h"
#include "benchmarks_db/truth_import.h"
#include "datasets/checksums.h"
#include "datasets/cifar10.h"
#include "proxies/catalog.h"
#include "proxies/engine.h"
#include "suite/arch_selection.h"
#include "suite/errors.h"
#include "suite/nb201_network.h"
#include "suite/progress.h"
#include "suite/run_inputs.h"
#include "suite/run_context.h"
#include "suite/stopwatch.h"
#include "suite/torch_runtime.h"
#include "suite/version_info.h"

namespace nbz {
namespace {

std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) { g_stop_requested = true; }

struct DatasetSpec {
  int num_classes;
  int input_size;
  std::string images;  // what the minibatch really is (recorded; marks surrogates)
};

DatasetSpec dataset_spec(const std::string& dataset) {
  const std::string exact = "cifar10 training images, exact first 4000 (data_batch_1_first4000.bin)";
  if (dataset == "cifar10") return {10, 32, exact};
  if (dataset == "cifar100") return {100, 32, "SURROGATE: " + exact};
  if (dataset == "imagenet16-120")
    return {120, 16, "SURROGATE: " + exact + ", 2x2 box-downsampled to 16 px"};
  throw Error("unknown --dataset '" + dataset + "' (expected cifar10, cifar100, imagenet16-120)");
}

std::vector<std::int64_t> parse_index_list(const std::string& text, std::int64_t limit) {
  std::vector<std::int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || end != item.c_str() + item.size() || v < 0 || v >= limit)
      throw Error("--batch-indices: '" + item + "' is not an image index in 0.." +
                  std::to_string(limit - 1));
    out.push_back(v);
  }
  std::set<std::int64_t> distinct(out.begin(), out.end());
  if (distinct.size() != out.size()) throw Error("--batch-indices: repeated index in '" + text + "'");
  return out;
}

std::string json_int_list(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Everything a sweep needs that does not depend on the architecture.
struct SweepSetup {
  TorchRuntime runtime;
  HostInfo host;
  DatasetSpec dataset;
  nb201::Space space;
  Minibatch batch;
  torch::Tensor images, labels;
  std::vector<const ProxyInfo*> proxies;
  std::unique_ptr<NngpData> nngp;  // only when an nngp proxy is requested
  torch::Tensor linear_region_inputs;
  std::string nngp_description;
};

SweepSetup prepare(const SweepOptions& o) {
  if (o.space != "nb201") throw Error("unknown --space '" + o.space + "' (expected nb201)");
  SweepSetup s{configure_torch(o.device, o.threads), host_info(), dataset_spec(o.dataset),
               {}, {}, {}, {}, resolve_proxy_list(o.proxies)};
  verify_data_file(o.data_dir, "nasbench201/nb201_ground_truth.csv");
  s.space = nb201::Space::load(o.data_dir);
  const ImageSet train = load_cifar10_train(o.data_dir);
  std::vector<std::int64_t> indices =
      o.batch_indices.empty() ? minibatch_indices(train.size(), o.batch_size, o.seed)
                              : parse_index_list(o.batch_indices, train.size());
  s.batch = make_minibatch(train, indices, kCifar10Normalisation, s.dataset.input_size);
  std::tie(s.images, s.labels) = minibatch_tensors(s.batch);
  const bool wants_nngp = std::any_of(s.proxies.begin(), s.proxies.end(),
                                      [](const ProxyInfo* p) { return p->family == "nngp"; });
  if (o.nngp_members < 1)
    throw Error("--nngp-members " + std::to_string(o.nngp_members) + " must be >= 1");
  if (wants_nngp)
    s.nngp = prepare_nngp_split(o.data_dir, o.nngp_images, o.nngp_train, o.nngp_val, o.seed,
                                s.dataset.input_size, s.dataset.num_classes, &s.nngp_description);
  s.linear_region_inputs = linear_region_crops(train, o.seed);
  return s;
}

EngineInput engine_input(const SweepSetup& s, const SweepOptions& o, const nb201::Cell& cell) {
  EngineInput in;
  nb201::NetworkOptions full;
  full.num_classes = s.dataset.num_classes;
  in.make_network = nb201_factory(cell, full);
  in.make_thin_network = nb201_factory(cell, nb201_thin_options(full));
  in.linear_region_inputs = s.linear_region_inputs;
  in.seed = o.seed;
  in.images = s.images;
  in.labels = s.labels;
  in.device = torch::Device(s.runtime.device);
  in.nngp_data = s.nngp.get();
  in.nngp.n_train = o.nngp_train;
  in.nngp.n_val = o.nngp_val;
  in.nngp.members = o.nngp_members;
  return in;
}

// The deterministic descriptor of what the scores mean: rerunning with the same key resumes.
std::string config_key(const SweepOptions& o, const SweepSetup& s) {
  std::ostringstream k;
  k << "space=" << o.space << ";dataset=" << o.dataset << ";classes=" << s.dataset.num_classes
    << ";input=" << s.dataset.input_size << ";seed=" << o.seed << ";batch="
    << json_int_list(s.batch.indices) << ";device=" << s.runtime.device
    << ";threads=" << s.runtime.threads << ";blas=" << s.runtime.blas
    << ";torch=" << s.runtime.torch_version;
  // Non-default NNGP options only, so that keys of runs made before these options existed (and
  // of runs that keep the defaults) stay the same.
  const SweepOptions defaults;
  if (o.nngp_train != defaults.nngp_train || o.nngp_val != defaults.nngp_val ||
      o.nngp_members != defaults.nngp_members || o.nngp_images != defaults.nngp_images)
    k << ";nngp=" << o.nngp_train << "/" << o.nngp_val << "/" << o.nngp_members << "/"
      << o.nngp_images;
  return k.str();
}

}  // namespace

namespace {
SweepSummary run_sweep_unchecked(const SweepOptions& o);
}  // namespace

SweepSummary run_sweep(const SweepOptions& o) {
  // SQLite failures (full disk, read-only file, I/O error) are the user's environment, not our
  // bug: name the database. Every architecture committed before the failure stays stored.
  try {
    return run_sweep_unchecked(o);
  } catch (const SQLite::Exception& e) {
    throw Error("results database '" + o.db_path + "': " + e.what() +
                " (architectures stored before this error are intact; rerun to resume)");
  }
}

namespace {

SweepSummary run_sweep_unchecked(const SweepOptions& o) {
  Stopwatch total;
  SweepSetup s = prepare(o);
  std::vector<std::int64_t> selected = select_architectures(o.archs, s.space.size(), o.seed);
  if (!o.shard.empty()) selected = shard_selection(selected, o.shard);

  db::ResultsDb database(o.db_path);
  db::import_nb201_truth(database, s.space);
  std::vector<db::ArchRow> arch_rows;
  for (auto i : selected)
    arch_rows.push_back({i, s.space.arch(i), s.space.cell(i).canonical_key()});
  const auto arch_ids = database.ensure_architectures("nb201", arch_rows);
  std::vector<db::ProxyRow> proxy_rows;
  for (const auto* p : s.proxies) {
    std::string passes;
    for (Pass pass : p->passes) passes += (passes.empty() ? "" : ",") + std::string(pass_name(pass));
    proxy_rows.push_back({p->name, p->sign, p->family, p->auxiliary ? "auxiliary" : "score",
                          passes, p->parameters, p->description});
  }
  const auto proxy_ids = database.ensure_proxies(proxy_rows);

  db::RunRecord run;
  run.config_key = config_key(o, s);
  run.space = o.space;
  run.dataset = o.dataset;
  run.images = s.dataset.images;
  run.num_classes = s.dataset.num_classes;
  run.input_size = s.dataset.input_size;
  run.seed = static_cast<std::int64_t>(o.seed);
  run.batch_size = static_cast<int>(s.batch.indices.size());
  run.batch_indices = json_int_list(s.batch.indices);
  run.device = s.runtime.device;
  run.device_name = s.runtime.device_name;
  run.threads = s.runtime.threads;
  run.blas = s.runtime.blas;
  run.torch_version = s.runtime.torch_version;
  run.code_version = code_version();
  run.build = std::string(build_type()) + ", " + compiler();
  run.host = s.host.host;
  run.cpu = s.host.cpu;
  run.options_json = "{\"archs\":\"" + json_escape(o.archs) + "\",\"shard\":\"" +
                     json_escape(o.shard) + "\",\"data_dir\":\"" + json_escape(o.data_dir) +
                     "\",\"nngp_train\":" + std::to_string(o.nngp_train) +
                     ",\"nngp_val\":" + std::to_string(o.nngp_val) +
                     ",\"nngp_members\":" + std::to_string(o.nngp_members) +
                     ",\"nngp_images\":\"" + json_escape(o.nngp_images) + "\"}";

  SweepSummary summary;
  summary.run_id = database.find_or_create_run(run);
  const auto session = database.begin_session(summary.run_id, o.command_line, s.host.host,
                                              code_version());
  const auto stored = database.stored_pairs(summary.run_id);

  // Work list: for each architecture, the requested proxies it does not have yet.
  std::vector<std::pair<std::int64_t, std::vector<const ProxyInfo*>>> todo;
  for (auto index : selected) {
    std::vector<const ProxyInfo*> missing;
    for (const auto* p : s.proxies)
      if (!stored.count({arch_ids.at(index), proxy_ids.at(p->name)})) missing.push_back(p);
    if (missing.empty()) {
      ++summary.archs_already_done;
    } else {
      todo.emplace_back(index, std::move(missing));
    }
  }
  summary.archs_selected = static_cast<std::int64_t>(selected.size());
  std::cerr << "sweep: run " << summary.run_id << ", " << selected.size() << " architectures x "
            << s.proxies.size() << " proxies; " << summary.archs_already_done
            << " already complete, " << todo.size() << " to score; " << s.runtime.threads
            << " threads on " << s.runtime.device << ", BLAS " << s.runtime.blas << "\n";

  g_stop_requested = false;
  auto old_int = std::signal(SIGINT, request_stop);
  auto old_term = std::signal(SIGTERM, request_stop);
  Progress progress(static_cast<std::int64_t>(todo.size()), o.progress_bar);
  try {
    for (const auto& [index, missing] : todo) {
      if (g_stop_requested) {
        summary.interrupted = true;
        break;
      }
      const ArchScores scores = score_architecture(engine_input(s, o, s.space.cell(index)), missing);
      std::vector<db::ScoreRow> rows;
      for (const auto& out : scores.proxies) {
        db::ScoreRow row;
        row.proxy_id = proxy_ids.at(out.proxy->name);
        row.ok = out.ok;
        row.value = out.value;
        row.rank_value = out.proxy->sign * out.value;
        row.failure_reason = out.failure;
        row.own_seconds = out.own_seconds;
        row.shared_seconds = out.shared_seconds;
        if (!out.ok) ++summary.failed_rows;
        rows.push_back(row);
      }
      std::vector<db::PassRow> passes;
      for (const auto& p : scores.passes) {
        std::string users;
        for (const auto& u : p.users) users += (users.empty() ? "" : ",") + u;
        passes.push_back({pass_name(p.pass), p.seconds, users, p.ok});
      }
      summary.rows_inserted +=
          database.store_arch_result(summary.run_id, session, arch_ids.at(index), rows, passes);
      ++summary.archs_scored;
      progress.advance();
    }
  } catch (...) {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
    try {
      database.end_session(session, "error");
    } catch (const std::exception&) {
      // The database itself may be what failed (full, read-only): keep the original error.
    }
    throw;
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  progress.finish();
  database.end_session(session, summary.interrupted ? "interrupted" : "completed");
  summary.seconds = total.seconds();
  return summary;
}

}  // namespace

std::string score_one_json(const SweepOptions& o, std::int64_t arch_index) {
  SweepSetup s = prepare(o);
  if (arch_index < 0 || arch_index >= s.space.size())
    throw Error("--arch-index " + std::to_string(arch_index) + " is outside 0.." +
                std::to_string(s.space.size() - 1));
  const ArchScores scores =
      score_architecture(engine_input(s, o, s.space.cell(arch_index)), s.proxies);
  std::ostringstream j;
  j << "{\"arch_index\":" << arch_index << ",\"arch\":\"" << s.space.arch(arch_index)
    << "\",\"seed\":" << o.seed << ",\"dataset\":\"" << o.dataset
    << "\",\"batch_indices\":" << json_int_list(s.batch.indices) << ",\"threads\":"
    << s.runtime.threads << ",\"torch_version\":\"" << s.runtime.torch_version
    << "\",\"blas\":\"" << json_escape(s.runtime.blas) << "\",\"proxies\":{";
  for (size_t i = 0; i < scores.proxies.size(); ++i) {
    const auto& p = scores.proxies[i];
    j << (i ? "," : "") << "\"" << p.proxy->name << "\":{\"ok\":" << (p.ok ? "true" : "false")
      << ",\"value\":" << (p.ok ? json_number(p.value) : "null") << ",\"failure\":\""
      << json_escape(p.failure) << "\",\"seconds\":" << json_number(p.own_seconds + p.shared_seconds)
      << "}";
  }
  j << "},\"passes\":{";
  for (size_t i = 0; i < scores.passes.size(); ++i)
    j << (i ? "," : "") << "\"" << pass_name(scores.passes[i].pass)
      << "\":" << json_number(scores.passes[i].seconds);
  j << "}}";
  return j.str();
}

std::int64_t check_space(const std::string& space, const std::string& data_dir, int threads) {
  if (space != "nb201") throw Error("unknown --space '" + space + "' (expected nb201)");
  configure_torch("cpu", threads);
  verify_data_file(data_dir, "nasbench201/nb201_ground_truth.csv");
  const auto s = nb201::Space::load(data_dir);
  torch::NoGradGuard no_grad;
  Stopwatch watch;
  std::int64_t mismatches = 0;
  std::set<std::string> unique_cells, benchmark_unique;
  for (std::int64_t i = 0; i < s.size(); ++i) {
    nb201::Network net(s.cell(i), nb201::NetworkOptions{});
    const auto n = net->num_trainable_parameters();
    if (n != s.params_cifar10(i)) {
      ++mismatches;
      std::cout << "MISMATCH index " << i << " " << s.arch(i) << ": built " << n
                << " parameters, benchmark params_cifar10 " << s.params_cifar10(i) << "\n";
    }
    unique_cells.insert(s.cell(i).canonical_key());
    benchmark_unique.insert(s.cell(i).benchmark_unique_str());
  }
  std::cout << "nb201 parameter counts: " << (s.size() - mismatches) << " of " << s.size()
            << " match params_cifar10 (" << watch.seconds() << " s)\n";
  std::cout << "nb201 unique cells: " << unique_cells.size() << " of " << s.size()
            << " by this suite's canonical form (architectures.canonical_key); "
            << benchmark_unique.size()
            << " by the benchmark's to_unique_str(consider_zero=True) rule\n";
  return mismatches;
}

}  // namespace nbz
