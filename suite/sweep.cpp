#include "suite/sweep.h"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "benchmarks_db/results_db.h"
#include "benchmarks_db/truth_import.h"
#include "datasets/checksums.h"
#include "datasets/cifar10.h"
#include "datasets/training_images.h"
#include "foundation/errors.h"
#include "foundation/progress.h"
#include "foundation/run_context.h"
#include "foundation/stopwatch.h"
#include "foundation/version_info.h"
#include "proxies/catalog.h"
#include "proxies/engine.h"
#include "proxies/ntk_evolution.h"
#include "spaces/arch_selection.h"
#include "spaces/nb101_network.h"
#include "spaces/nb101_space.h"
#include "spaces/nb201_network.h"
#include "suite/run_inputs.h"
#include "suite/torch_runtime.h"

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

const char* const kNb101Truth = "nasbench101/nb101_ground_truth_20k.csv";

// The search space of a sweep: how many architectures, their names, keys and cells.
//  * nb201: arch_index = the benchmark's index, arch = the arch string, canonical_key = ours
//    (docs/decisions.md).
//  * nb101: arch_index = position of the module hash in the whole space sorted by hash (the
//    order nb101::enumerate_space returns; the ground-truth CSV is its first 20,001 hashes),
//    arch = canonical_key = the module hash (isomorphic cells share it).
struct SearchSpace {
  std::string name;
  nb201::Space nb201;
  std::vector<nb101::SpaceCell> nb101_cells;       // sorted by hash
  std::string nb101_truth_path;
  std::vector<nb101::GroundTruthRow> nb101_truth;  // the CSV's rows, in file order
  std::vector<std::int64_t> nb101_truth_index;     // arch_index of each, aligned

  std::int64_t size() const {
    return name == "nb101" ? static_cast<std::int64_t>(nb101_cells.size()) : nb201.size();
  }
  std::string arch(std::int64_t i) const {
    return name == "nb101" ? nb101_cells[static_cast<size_t>(i)].hash : nb201.arch(i);
  }
  std::string canonical_key(std::int64_t i) const {
    return name == "nb101" ? nb101_cells[static_cast<size_t>(i)].hash
                           : nb201.cell(i).canonical_key();
  }
  // NB101: arch_index of a module hash, -1 when it is not in the space.
  std::int64_t nb101_index_of(const std::string& hash) const {
    const auto it = std::lower_bound(
        nb101_cells.begin(), nb101_cells.end(), hash,
        [](const nb101::SpaceCell& c, const std::string& h) { return c.hash < h; });
    return it != nb101_cells.end() && it->hash == hash ? it - nb101_cells.begin() : -1;
  }

  std::vector<std::int64_t> select(const std::string& spec, std::uint64_t seed) const {
    if (name == "nb201") return select_architectures(spec, size(), seed);
    Nb101Catalog catalog;
    catalog.space_size = size();
    catalog.truth_indices = nb101_truth_index;
    std::sort(catalog.truth_indices.begin(), catalog.truth_indices.end());
    catalog.index_of = [this](const std::string& hash) { return nb101_index_of(hash); };
    return select_nb101_architectures(spec, catalog, seed);
  }
};

SearchSpace load_space(const std::string& space, const std::string& data_dir) {
  SearchSpace s;
  s.name = space;
  if (space == "nb201") {
    verify_data_file(data_dir, "nasbench201/nb201_ground_truth.csv");
    s.nb201 = nb201::Space::load(data_dir);
    return s;
  }
  NBZ_ASSERT(space == "nb101", "check_space_options lets only known spaces through");
  verify_data_file(data_dir, kNb101Truth);
  Stopwatch watch;
  s.nb101_cells = nb101::enumerate_space();
  NBZ_ASSERT(s.nb101_cells.size() == nb101::kSpaceSize, "NB101 enumeration lost cells");
  s.nb101_truth_path = data_dir + "/" + kNb101Truth;
  s.nb101_truth = nb101::load_ground_truth(s.nb101_truth_path);
  s.nb101_truth_index = db::nb101_truth_indices(
      s.nb101_truth_path, s.nb101_truth,
      [&s](const std::string& hash) { return s.nb101_index_of(hash); });
  std::cerr << "sweep: NAS-Bench-101 space enumerated (" << s.nb101_cells.size()
            << " module hashes) and " << s.nb101_truth.size() << " ground-truth rows indexed in "
            << watch.seconds() << " s\n";
  return s;
}

// Everything a sweep needs that does not depend on the architecture.
struct SweepSetup {
  TorchRuntime runtime;
  HostInfo host;
  DatasetSpec dataset;
  SearchSpace space;
  Minibatch batch;
  torch::Tensor images, labels;
  std::vector<const ProxyInfo*> proxies;
  std::unique_ptr<NngpData> nngp;  // only when an nngp proxy is requested
  torch::Tensor linear_region_inputs;
  std::string nngp_description;
  std::shared_ptr<const ImageSet> training_images;  // only when a _trained_<k> proxy is requested
};

bool is_trained(const ProxyInfo* p) { return p->train_epochs > 0; }

SweepSetup prepare(const SweepOptions& o) {
  check_space_options(o);
  SweepSetup s{configure_torch(o.device, o.threads), host_info(), dataset_spec(o.dataset),
               {}, {}, {}, {}, expand_train_epochs(resolve_proxy_list(o.proxies), o.train_epochs)};
  s.space = load_space(o.space, o.data_dir);
  // The minibatch, the NNGP split and training may all draw on the same set: read each file once.
  std::map<std::string, std::shared_ptr<const ImageSet>> loaded_sets;
  const auto image_set = [&](const std::string& name) {
    auto& slot = loaded_sets[name];
    if (!slot) slot = std::make_shared<const ImageSet>(load_training_images(o.data_dir, name));
    return slot;
  };
  const ImageSet& train = *image_set("cifar10-exact-4k");
  const int batch_size = o.batch_size > 0 ? o.batch_size : default_batch_size(o.space);
  std::vector<std::int64_t> indices =
      o.batch_indices.empty() ? minibatch_indices(train.size(), batch_size, o.seed)
                              : parse_index_list(o.batch_indices, train.size());
  s.batch = make_minibatch(train, indices, kCifar10Normalisation, s.dataset.input_size);
  std::tie(s.images, s.labels) = minibatch_tensors(s.batch);
  const bool wants_nngp = std::any_of(s.proxies.begin(), s.proxies.end(),
                                      [](const ProxyInfo* p) { return p->family == "nngp"; });
  if (o.nngp_members < 1)
    throw Error("--nngp-members " + std::to_string(o.nngp_members) + " must be >= 1");
  if (wants_nngp) {
    const ImageSet& set = *image_set(o.nngp_images);
    s.nngp = prepare_nngp_split(set, o.nngp_images, o.nngp_train, o.nngp_val, o.seed,
                                s.dataset.input_size, s.dataset.num_classes);
    s.nngp_description = set.description;
  }
  s.linear_region_inputs = linear_region_crops(train, o.seed);
  if (std::any_of(s.proxies.begin(), s.proxies.end(), is_trained)) {
    // The trainer crops and flips at the images' own size; a 16 px surrogate would need a
    // downsampled training set that no reference defines.
    if (s.dataset.input_size != 32)
      throw Error("--train-epochs: training is defined for 32 px inputs; --dataset '" +
                  o.dataset + "' uses " + std::to_string(s.dataset.input_size) + " px");
    s.training_images = image_set(o.train_images);
  }
  return s;
}

EngineInput engine_input(const SweepSetup& s, const SweepOptions& o, std::int64_t index) {
  EngineInput in;
  if (s.space.name == "nb101") {
    nb101::NetworkOptions full;
    full.num_classes = s.dataset.num_classes;
    in.make_network = nb101_factory(s.space.nb101_cells[static_cast<size_t>(index)].cell, full);
    // TE-NAS defines its thin network for NB201's cell only: make_thin_network stays empty and
    // linear_regions is stored as a failed row giving that reason.
  } else {
    const nb201::Cell& cell = s.space.nb201.cell(index);
    nb201::NetworkOptions full;
    full.num_classes = s.dataset.num_classes;
    in.make_network = nb201_factory(cell, full);
    in.make_thin_network = nb201_factory(cell, nb201_thin_options(full));
  }
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

// Every requested proxy of one architecture: those at initialisation through the shared-pass
// engine, the _trained_<k> ones through the NTK time evolution (which trains once, up to the
// largest k).
ArchScores score_arch(const SweepSetup& s, const SweepOptions& o, std::int64_t index,
                      const std::vector<const ProxyInfo*>& proxies) {
  std::vector<const ProxyInfo*> at_init, trained;
  for (const auto* p : proxies) (is_trained(p) ? trained : at_init).push_back(p);
  const EngineInput input = engine_input(s, o, index);
  ArchScores out;
  std::map<const ProxyInfo*, ProxyOutcome> by_proxy;
  if (!at_init.empty()) {
    const ArchScores scores = score_architecture(input, at_init);
    for (const auto& p : scores.proxies) by_proxy[p.proxy] = p;
    out.passes = scores.passes;
  }
  if (!trained.empty()) {
    NBZ_ASSERT(s.training_images != nullptr, "trained proxies without training images");
    TrainingOptions training;
    training.seed = o.seed;
    const ArchScores scores = score_after_training(input, *s.training_images, training, trained);
    for (const auto& p : scores.proxies) by_proxy[p.proxy] = p;
    out.passes.insert(out.passes.end(), scores.passes.begin(), scores.passes.end());
  }
  for (const auto* p : proxies) out.proxies.push_back(by_proxy.at(p));
  return out;
}

// The deterministic descriptor of what the scores mean: rerunning with the same key resumes. The
// machine (CPU model, GPU name, the kernel OpenBLAS picked for the CPU) is not part of it: a
// sweep resumed on another machine continues its run, and each session records its machine.
std::string config_key(const SweepOptions& o, const SweepSetup& s) {
  std::ostringstream k;
  k << "space=" << o.space << ";dataset=" << o.dataset << ";classes=" << s.dataset.num_classes
    << ";input=" << s.dataset.input_size << ";seed=" << o.seed << ";batch="
    << json_int_list(s.batch.indices) << ";device=" << s.runtime.device
    << ";threads=" << s.runtime.threads << ";blas=" << blas_build(s.runtime.blas)
    << ";torch=" << s.runtime.torch_version;
  // Non-default NNGP options only, so that keys of runs made before these options existed (and
  // of runs that keep the defaults) stay the same.
  const SweepOptions defaults;
  if (o.nngp_train != defaults.nngp_train || o.nngp_val != defaults.nngp_val ||
      o.nngp_members != defaults.nngp_members || o.nngp_images != defaults.nngp_images)
    k << ";nngp=" << o.nngp_train << "/" << o.nngp_val << "/" << o.nngp_members << "/"
      << o.nngp_images;
  if (o.train_images != defaults.train_images) k << ";train_images=" << o.train_images;
  return k.str();
}

// Scores of one run computed on two machines agree to float rounding, not to the bit (sizes
// measured between two EPYC generations: docs/decisions.md, "Runs and resumption"): say so when
// this session's machine differs from the one that started the run.
void report_machine_change(db::ResultsDb& database, std::int64_t run_id, const SweepSetup& s) {
  SQLite::Statement first(database.sql(),
                          "SELECT coalesce(blas, ''), coalesce(cpu, ''), coalesce(device_name, '') "
                          "FROM run_sessions WHERE run_id = ? AND blas IS NOT NULL "
                          "ORDER BY session_id LIMIT 1");
  first.bind(1, run_id);
  if (!first.executeStep()) return;
  const std::string blas = first.getColumn(0).getString();
  const std::string cpu = first.getColumn(1).getString();
  const std::string device = first.getColumn(2).getString();
  if (blas == s.runtime.blas && (cpu.empty() || cpu == s.host.cpu) &&
      (device.empty() || device == s.runtime.device_name))
    return;
  std::cerr << "sweep: note: run " << run_id << " was started on another machine (BLAS " << blas
            << (cpu.empty() ? "" : ", CPU " + cpu) << "); this session's rows are computed with "
            << "BLAS " << s.runtime.blas << ", CPU " << s.host.cpu
            << " and agree with that machine's to float rounding, not to the bit "
            << "(run_sessions records each session's machine)\n";
}

}  // namespace

int default_batch_size(const std::string& space) { return space == "nb101" ? 128 : 64; }

void check_space_options(const SweepOptions& o) {
  if (o.space != "nb201" && o.space != "nb101")
    throw Error("unknown --space '" + o.space + "' (expected nb201 or nb101)");
  // NAS-Bench-101 was trained on CIFAR-10 only: no head, input size or ground truth exists for
  // another dataset.
  if (o.space == "nb101" && o.dataset != "cifar10")
    throw Error("--dataset '" + o.dataset +
                "': NAS-Bench-101 is defined on CIFAR-10 only (--space nb101 takes --dataset "
                "cifar10)");
  if (o.batch_size < 0)
    throw Error("--batch " + std::to_string(o.batch_size) + " must be >= 1");
}

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
  std::vector<std::int64_t> selected = s.space.select(o.archs, o.seed);
  if (!o.shard.empty()) selected = shard_selection(selected, o.shard);

  db::ResultsDb database(o.db_path);
  if (s.space.name == "nb101") {
    db::import_nb101_truth(database, s.space.nb101_truth_path, s.space.nb101_truth,
                           s.space.nb101_truth_index);
  } else {
    db::import_nb201_truth(database, s.space.nb201);
  }
  std::vector<db::ArchRow> arch_rows;
  for (auto i : selected) arch_rows.push_back({i, s.space.arch(i), s.space.canonical_key(i)});
  const auto arch_ids = database.ensure_architectures(s.space.name, arch_rows);
  std::vector<db::ProxyRow> proxy_rows;
  for (const auto* p : s.proxies) {
    std::string passes;
    for (Pass pass : p->passes) passes += (passes.empty() ? "" : ",") + std::string(pass_name(pass));
    proxy_rows.push_back({p->name, p->sign, p->family, p->auxiliary ? "auxiliary" : "score",
                          passes, p->parameters, p->description, p->train_epochs});
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
                     ",\"nngp_images\":\"" + json_escape(o.nngp_images) +
                     "\",\"train_epochs\":\"" + json_escape(o.train_epochs) +
                     "\",\"train_images\":\"" + json_escape(o.train_images) + "\"}";

  SweepSummary summary;
  summary.run_id = database.find_or_create_run(run);
  report_machine_change(database, summary.run_id, s);
  const auto session =
      database.begin_session(summary.run_id, o.command_line, s.host.host, code_version(),
                             {s.host.cpu, s.runtime.device_name, s.runtime.blas});
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

  if (s.runtime.device != "cpu" && !todo.empty()) {
    // CUDA's context, handles and first kernel launches would otherwise land in the first
    // architecture's passes (about 1 s in its batch1_forward, i.e. its flops time): one
    // discarded evaluation of the first architecture's proxies at initialisation first.
    std::vector<const ProxyInfo*> at_init;
    for (const auto* p : todo.front().second)
      if (!is_trained(p)) at_init.push_back(p);
    if (!at_init.empty()) {
      Stopwatch warm_up;
      (void)score_architecture(engine_input(s, o, todo.front().first), at_init);
      std::cerr << "sweep: warmed up " << s.runtime.device << " in " << warm_up.seconds()
                << " s (architecture " << todo.front().first << ", untimed, not stored)\n";
    }
  }

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
      const ArchScores scores = score_arch(s, o, index, missing);
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
        passes.push_back({p.name, p.seconds, users, p.ok});
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
  // On a GPU the first evaluation pays CUDA's start-up: run it once untimed, so that the seconds
  // below are those of a sweep's steady state.
  if (s.runtime.device != "cpu") (void)score_arch(s, o, arch_index, s.proxies);
  const ArchScores scores = score_arch(s, o, arch_index, s.proxies);
  std::ostringstream j;
  j << "{\"space\":\"" << s.space.name << "\",\"arch_index\":" << arch_index << ",\"arch\":\""
    << s.space.arch(arch_index) << "\",\"seed\":" << o.seed << ",\"dataset\":\"" << o.dataset
    << "\",\"batch_indices\":" << json_int_list(s.batch.indices) << ",\"threads\":"
    << s.runtime.threads << ",\"device\":\"" << s.runtime.device << "\",\"device_name\":\""
    << json_escape(s.runtime.device_name) << "\",\"torch_version\":\"" << s.runtime.torch_version
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
    j << (i ? "," : "") << "\"" << scores.passes[i].name
      << "\":" << json_number(scores.passes[i].seconds);
  j << "}}";
  return j.str();
}

namespace {

// Prints the first few problems of one kind, then only counts them.
class MismatchLog {
 public:
  explicit MismatchLog(const char* what) : what_(what) {}
  void add(const std::string& line) {
    if (++count_ <= kShown) std::cout << "MISMATCH " << line << "\n";
  }
  std::int64_t count() const { return count_; }
  void finish() const {
    if (count_ > kShown)
      std::cout << "... " << (count_ - kShown) << " more " << what_ << " mismatches\n";
  }

 private:
  static constexpr std::int64_t kShown = 20;
  const char* what_;
  std::int64_t count_ = 0;
};

std::int64_t check_nb101_space(const std::string& data_dir) {
  verify_data_file(data_dir, kNb101Truth);
  const std::string path = data_dir + "/" + kNb101Truth;

  Stopwatch watch;
  nb101::EnumerationStats stats;
  const auto cells = nb101::enumerate_space(&stats);
  const double enumerate_seconds = watch.seconds();
  std::int64_t mismatches = 0;
  bool sorted_unique = true;
  for (size_t i = 1; i < cells.size(); ++i)
    sorted_unique = sorted_unique && cells[i - 1].hash < cells[i].hash;
  if (cells.size() != nb101::kSpaceSize || !sorted_unique) ++mismatches;
  std::cout << "nb101 enumeration: " << cells.size() << " of " << nb101::kSpaceSize
            << " module hashes" << (sorted_unique ? "" : " (NOT sorted and unique)") << " ("
            << stats.labeled_graphs << " labelled graphs of " << stats.full_dag_matrices
            << " matrices) in " << enumerate_seconds << " s\n";

  const auto rows = nb101::load_ground_truth(path);
  const auto n = static_cast<std::int64_t>(rows.size());
  watch = Stopwatch();
  MismatchLog hashes("hash"), presence("space");
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = path + ":" + std::to_string(r + 2) + " " + row.module_hash;
    const std::string hash = nb101::module_hash(row.cell);
    if (hash != row.module_hash) hashes.add(where + ": its spec hashes to " + hash);
    const auto it = std::lower_bound(
        cells.begin(), cells.end(), row.module_hash,
        [](const nb101::SpaceCell& c, const std::string& h) { return c.hash < h; });
    if (it == cells.end() || it->hash != row.module_hash)
      presence.add(where + ": not in the enumerated space");
    else if (it->cell != row.cell)
      presence.add(where + ": the enumerated cell of this hash is " +
                   nb101::format_adjacency(it->cell) + " " + nb101::format_operations(it->cell) +
                   ", not the CSV's spec");
  }
  hashes.finish();
  presence.finish();
  std::cout << "nb101 ground-truth hashes: " << (n - hashes.count()) << " of " << n
            << " rows hash to their module_hash (" << watch.seconds() << " s)\n";
  std::cout << "nb101 ground-truth cells: " << (n - presence.count()) << " of " << n
            << " rows are in the enumerated space with the same cell\n";

  watch = Stopwatch();
  MismatchLog params("parameter-count");
  {
    SkipInitScope skip;  // counts the real module tree without drawing 8.5M weights per row
    for (size_t r = 0; r < rows.size(); ++r) {
      nb101::Network net(rows[r].cell);
      const auto count = net->num_trainable_parameters();
      if (count != rows[r].trainable_parameters)
        params.add(path + ":" + std::to_string(r + 2) + " " + rows[r].module_hash + ": built " +
                   std::to_string(count) + " parameters, benchmark trainable_parameters " +
                   std::to_string(rows[r].trainable_parameters));
    }
  }
  params.finish();
  std::cout << "nb101 parameter counts: " << (n - params.count()) << " of " << n
            << " match trainable_parameters (" << watch.seconds() << " s)\n";
  return mismatches + hashes.count() + presence.count() + params.count();
}

}  // namespace

std::int64_t check_space(const std::string& space, const std::string& data_dir, int threads) {
  if (space != "nb201" && space != "nb101")
    throw Error("unknown --space '" + space + "' (expected nb201 or nb101)");
  configure_torch("cpu", threads);
  if (space == "nb101") return check_nb101_space(data_dir);
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
