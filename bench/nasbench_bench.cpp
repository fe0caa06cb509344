// nasbench_bench: Google Benchmark microbenchmarks of the shared-pass engine (README, "Benchmarks").
//
// On fixed architectures (NB201 smallest, median and largest by params_cifar10, ties to the
// lowest index; one NB101 cell, the median by trainable parameters of the 20k ground-truth rows),
// registered at run time from the catalog:
//   engine/<proxy>/<arch>     score_architecture() for that proxy alone (build included)
//   engine/zc|all/<arch>      the engine on the whole group: what a sweep pays per architecture
//   floor/<passes>/<arch>     the bare passes of that pass set (bench/bare_passes.h); each
//                             engine benchmark's label names its floor, and the table printed at
//                             the end gives engine time / floor time
//   per_sample_grads/<method>/<arch>  GradAlign's B per-sample loss gradients on a built network
//                             (build outside the timing): batch1_fast (one forward with
//                             per-sample BatchNorm, one backward, per-sample weight gradients
//                             from layer inputs and output gradients), batch1_loop (the
//                             reference: B batch-1 forwards and backwards), batched_forward (the
//                             default gradalign: one batched forward, B backwards); a second
//                             table gives the fast path's speed-up over the loop
//   training/epoch/<arch>     one epoch of NB201-recipe training (spaces/training.h) on the 4,000
//                             exact CIFAR-10 images, what each k of --train-epochs costs
// The run context (host, CPU, threads, BLAS actually loaded, LibTorch, build, code version, the
// minibatch, each architecture) is added to the JSON so that `nasbench import-bench` can store
// the results as a timing run with full provenance.
//
// Own flags (besides --benchmark_*): --threads=N (intra-op threads, default 1), --data=DIR,
// --seed=S (default 0), --batch=B (default 64), --nb101=0|1 (default 1), --device=cpu|cuda|cuda:N
// (default cpu; on CUDA every timed region ends by waiting for the device).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/bare_passes.h"
#include "benchmarks_db/bench_import.h"
#include "datasets/cifar10.h"
#include "datasets/training_images.h"
#include "foundation/errors.h"
#include "foundation/run_context.h"
#include "foundation/stopwatch.h"
#include "foundation/version_info.h"
#include "proxies/catalog.h"
#include "proxies/engine.h"
#include "proxies/proxy_functions.h"
#include "spaces/nb101_network.h"
#include "spaces/nb101_space.h"
#include "spaces/nb201_network.h"
#include "spaces/nb201_space.h"
#include "spaces/training.h"
#include "suite/run_inputs.h"
#include "suite/torch_runtime.h"

namespace nbz::bench {
namespace {

struct Options {
  std::string data_dir;
  int threads = 1;
  std::uint64_t seed = 0;
  int batch = 64;
  bool nb101 = true;
  std::string device = "cpu";
};

// One architecture the benchmarks run on.
struct ArchCase {
  std::string label;  // nb201-smallest, ..., nb101-median
  std::string space;
  std::int64_t index = 0;
  std::string arch;  // NB201 arch string; NB101 module hash
  std::int64_t params = 0;
  NetworkFactory make_network, make_thin_network;
};

// Everything the benchmarks share, built once before they run.
struct Setup {
  Options options;
  torch::Device device = torch::kCPU;
  torch::Tensor images, labels;
  torch::Tensor linear_region_inputs;  // TE-NAS's crops, as suite/sweep.cpp draws them
  std::vector<std::int64_t> batch_indices;
  std::unique_ptr<NngpData> nngp;
  NngpOptions nngp_options;
  std::vector<ArchCase> archs;
};
Setup* g_setup = nullptr;

std::string json_list(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

NetworkFactory bench_factory(const nb201::Cell& cell, bool thin) {
  return nb201_factory(cell, thin ? nb201_thin_options({}) : nb201::NetworkOptions{});
}

std::vector<ArchCase> choose_architectures(const Options& o) {
  std::vector<ArchCase> archs;
  const auto space = nb201::Space::load(o.data_dir);
  std::vector<std::pair<std::int64_t, std::int64_t>> by_params;  // (params, index)
  for (std::int64_t i = 0; i < space.size(); ++i) by_params.emplace_back(space.params_cifar10(i), i);
  std::sort(by_params.begin(), by_params.end());
  const std::pair<const char*, size_t> picks[] = {
      {"nb201-smallest", 0}, {"nb201-median", (by_params.size() - 1) / 2},
      {"nb201-largest", by_params.size() - 1}};
  // The largest is unique; the smallest and the median are ties broken to the lowest index.
  for (const auto& [label, position] : picks) {
    std::int64_t params = by_params[position].first;
    auto first = std::lower_bound(by_params.begin(), by_params.end(), std::make_pair(params, std::int64_t{0}));
    const std::int64_t index = first->second;
    archs.push_back({label, "nb201", index, space.arch(index), params,
                     bench_factory(space.cell(index), false), bench_factory(space.cell(index), true)});
  }
  if (o.nb101) {
    const auto rows =
        nb101::load_ground_truth(o.data_dir + "/nasbench101/nb101_ground_truth_20k.csv");
    std::vector<std::pair<long long, size_t>> order;
    for (size_t r = 0; r < rows.size(); ++r) order.emplace_back(rows[r].trainable_parameters, r);
    std::sort(order.begin(), order.end());
    const size_t row = order[(order.size() - 1) / 2].second;
    const nb101::Cell cell = rows[row].cell;
    archs.push_back({"nb101-median", "nb101", static_cast<std::int64_t>(row), rows[row].module_hash,
                     rows[row].trainable_parameters,
                     nb101_factory(cell, nb101::NetworkOptions{}), {}});
  }
  return archs;
}

EngineInput engine_input(const ArchCase& arch) {
  EngineInput in;
  in.make_network = arch.make_network;
  in.make_thin_network = arch.make_thin_network;
  in.linear_region_inputs = g_setup->linear_region_inputs;
  in.seed = g_setup->options.seed;
  in.images = g_setup->images;
  in.labels = g_setup->labels;
  in.nngp_data = g_setup->nngp.get();
  in.nngp = g_setup->nngp_options;
  in.device = g_setup->device;
  return in;
}

std::set<Pass> passes_of(const std::vector<const ProxyInfo*>& proxies) {
  std::set<Pass> passes;
  for (const auto* p : proxies) passes.insert(p->passes.begin(), p->passes.end());
  return passes;
}

void engine_benchmark(benchmark::State& state, const ArchCase* arch,
                      std::vector<const ProxyInfo*> proxies) {
  const EngineInput input = engine_input(*arch);
  int failed = 0;
  std::string failure;
  try {
    for (auto _ : state) {
      const ArchScores scores = score_architecture(input, proxies);
      failed = 0;
      for (const auto& p : scores.proxies)
        if (!p.ok && ++failed == 1) failure = p.proxy->name + ": " + p.failure;
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.counters["proxies"] = static_cast<double>(proxies.size());
  state.counters["failed"] = failed;
  // The engine isolates failures, so a failing proxy still ran its passes: the time stands, and
  // the label says which value would not have been stored.
  state.SetLabel("floor " + db::pass_set_name(passes_of(proxies)) +
                 (failed ? "; failed " + failure : ""));
}

void floor_benchmark(benchmark::State& state, const ArchCase* arch, std::set<Pass> passes) {
  BareInput input;
  input.make_network = arch->make_network;
  input.make_thin_network = arch->make_thin_network;
  input.linear_region_inputs = g_setup->linear_region_inputs;
  input.seed = g_setup->options.seed;
  input.images = g_setup->images;
  input.labels = g_setup->labels;
  input.nngp_data = g_setup->nngp.get();
  input.nngp_members = g_setup->nngp_options.members;
  input.device = g_setup->device;
  input.images = input.images.to(input.device);
  input.labels = input.labels.to(input.device);
  if (input.linear_region_inputs.defined())
    input.linear_region_inputs = input.linear_region_inputs.to(input.device);
  BareCounts counts;
  try {
    const BarePreparation prepared = prepare_bare_passes(passes, input);
    for (auto _ : state) counts = run_bare_passes(passes, input, prepared);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.counters["builds"] = counts.builds;
  state.counters["forwards"] = counts.forwards;
  state.counters["backwards"] = counts.backwards;
  state.counters["samples"] = static_cast<double>(counts.forward_samples);
}

enum class PerSampleMethod { Batch1Fast, Batch1Loop, BatchedForward };

void per_sample_benchmark(benchmark::State& state, const ArchCase* arch, PerSampleMethod method) {
  const auto images = g_setup->images.to(g_setup->device);
  const auto labels = g_setup->labels.to(g_setup->device);
  try {
    torch::manual_seed(g_setup->options.seed);
    SearchNetwork net = arch->make_network();
    net->to(g_setup->device);
    net->train();
    const auto weights = net->weighted_layer_weights();
    for (auto _ : state) {
      torch::Tensor rows;
      switch (method) {
        case PerSampleMethod::Batch1Fast:
          rows = batch1_loss_gradients_fast(*net, images, labels);
          break;
        case PerSampleMethod::Batch1Loop:
          rows = batch1_loss_gradients_loop(*net, images, labels);
          break;
        case PerSampleMethod::BatchedForward:
          rows = sample_loss_gradients(net->forward(images), labels, weights);
          break;
      }
      benchmark::DoNotOptimize(rows.data_ptr());
      wait_for_device(g_setup->device);
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.counters["samples"] = static_cast<double>(images.size(0));
}

void training_epoch_benchmark(benchmark::State& state, const ArchCase* arch) {
  try {
    static const ImageSet images =
        load_training_images(g_setup->options.data_dir, "cifar10-exact-4k");
    for (auto _ : state) {
      state.PauseTiming();
      torch::manual_seed(g_setup->options.seed);
      SearchNetwork net = arch->make_network();
      net->to(g_setup->device);
      TrainingOptions options;
      options.seed = g_setup->options.seed;
      Trainer trainer(net, images, options);
      state.ResumeTiming();
      const EpochMetrics m = trainer.train_epoch();
      wait_for_device(g_setup->device);
      benchmark::DoNotOptimize(m.mean_loss);
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.counters["images"] = 4000;
}

void register_benchmarks(const Setup& setup) {
  for (const auto& arch : setup.archs) {
    std::set<std::set<Pass>> floors;
    auto add = [&](const std::string& what, std::vector<const ProxyInfo*> proxies) {
      benchmark::RegisterBenchmark(("engine/" + what + "/" + arch.label).c_str(), engine_benchmark,
                                   &arch, proxies)
          ->Unit(benchmark::kMillisecond);
      floors.insert(passes_of(proxies));
    };
    for (const auto& p : proxy_catalog()) add(p.name, {&p});
    add("zc", resolve_proxy_list("zc"));
    add("all", resolve_proxy_list("all"));
    for (const auto& passes : floors)
      benchmark::RegisterBenchmark(("floor/" + db::pass_set_name(passes) + "/" + arch.label).c_str(),
                                   floor_benchmark, &arch, passes)
          ->Unit(benchmark::kMillisecond);
    for (const auto& [method, what] :
         {std::pair{PerSampleMethod::Batch1Fast, "batch1_fast"},
          std::pair{PerSampleMethod::Batch1Loop, "batch1_loop"},
          std::pair{PerSampleMethod::BatchedForward, "batched_forward"}})
      benchmark::RegisterBenchmark(
          (std::string("per_sample_grads/") + what + "/" + arch.label).c_str(),
          per_sample_benchmark, &arch, method)
          ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("training/epoch/" + arch.label).c_str(),
                                 training_epoch_benchmark, &arch)
        ->Unit(benchmark::kMillisecond);
  }
}

// The console output plus, at the end, engine time / floor time for every engine benchmark.
class FloorRatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.error_occurred) continue;
      const std::string name = r.run_name.function_name;
      if (r.run_type == Run::RT_Aggregate) {
        if (r.aggregate_name == "median") median_[name] = seconds(r);
      } else {
        samples_[name].push_back(seconds(r));
        if (name.rfind("engine/", 0) == 0) labels_[name] = r.report_label;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void Finalize() override {
    auto& out = GetOutputStream();
    out << "\nengine time / bare-pass floor time (" << (median_.empty() ? "single repetition"
                                                                        : "medians")
        << ")\n";
    char line[512];
    std::snprintf(line, sizeof line, "%-34s %-15s %11s %11s %8s  %s\n", "proxy", "architecture",
                  "engine ms", "floor ms", "ratio", "floor");
    out << line;
    for (const auto& [name, label] : labels_) {
      const auto first = name.find('/'), last = name.rfind('/');
      const std::string what = name.substr(first + 1, last - first - 1);
      const std::string arch = name.substr(last + 1);
      std::string passes = label.substr(6);  // after "floor "
      passes = passes.substr(0, passes.find(';'));
      const std::string floor = "floor/" + passes + "/" + arch;
      const double engine = value(name), bare = value(floor);
      char floor_ms[32] = "-", ratio[32] = "-";  // "-": the floor was filtered out
      if (bare > 0) {
        std::snprintf(floor_ms, sizeof floor_ms, "%.3f", bare * 1e3);
        std::snprintf(ratio, sizeof ratio, "%.2f", engine / bare);
      }
      std::snprintf(line, sizeof line, "%-34s %-15s %11.3f %11s %8s  %s\n", what.c_str(),
                    arch.c_str(), engine * 1e3, floor_ms, ratio, passes.c_str());
      out << line;
    }
    // GradAlign's batch-1 per-sample gradients: the fast path against the reference loop.
    bool header = false;
    const std::string fast_prefix = "per_sample_grads/batch1_fast/";
    std::set<std::string> measured;  // with --benchmark_report_aggregates_only only medians come
    for (const auto& [name, v] : samples_) measured.insert(name);
    for (const auto& [name, v] : median_) measured.insert(name);
    for (const auto& name : measured) {
      if (name.rfind(fast_prefix, 0) != 0) continue;
      const std::string arch = name.substr(fast_prefix.size());
      const double fast = value(name), loop = value("per_sample_grads/batch1_loop/" + arch);
      const double batched = value("per_sample_grads/batched_forward/" + arch);
      if (!header) {
        out << "\nbatch-1 per-sample loss gradients: fast path vs reference loop\n";
        std::snprintf(line, sizeof line, "%-15s %11s %11s %9s %18s\n", "architecture",
                      "fast ms", "loop ms", "speed-up", "batched_forward ms");
        out << line;
        header = true;
      }
      char loop_ms[32] = "-", ratio[32] = "-", batched_ms[32] = "-";
      if (loop > 0) {
        std::snprintf(loop_ms, sizeof loop_ms, "%.3f", loop * 1e3);
        std::snprintf(ratio, sizeof ratio, "%.2f", loop / fast);
      }
      if (batched > 0) std::snprintf(batched_ms, sizeof batched_ms, "%.3f", batched * 1e3);
      std::snprintf(line, sizeof line, "%-15s %11.3f %11s %9s %18s\n", arch.c_str(), fast * 1e3,
                    loop_ms, ratio, batched_ms);
      out << line;
    }
    ConsoleReporter::Finalize();
  }

 private:
  static double seconds(const Run& r) {
    return r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit);
  }
  double value(const std::string& name) const {
    auto m = median_.find(name);
    if (m != median_.end()) return m->second;
    auto s = samples_.find(name);
    if (s == samples_.end() || s->second.empty()) return 0;
    auto v = s->second;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  std::map<std::string, double> median_;
  std::map<std::string, std::vector<double>> samples_;
  std::map<std::string, std::string> labels_;
};

// Removes and applies this program's own flags; the rest is Google Benchmark's.
Options parse_own_flags(int* argc, char** argv) {
  Options o;
  const char* env = std::getenv("NBZ_DATA");
  o.data_dir = env ? env : NBZ_DEFAULT_DATA_DIR;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const std::string prefix = std::string("--") + flag + "=";
      return arg.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    auto integer = [&](const char* flag, const char* text) {
      char* end = nullptr;
      const long long v = std::strtoll(text, &end, 10);
      if (*text == '\0' || *end != '\0' || v < 0)
        throw Error(std::string("--") + flag + "='" + text + "' is not a non-negative integer");
      return v;
    };
    if (const char* v = value("data")) {
      o.data_dir = v;
    } else if (const char* v = value("threads")) {
      o.threads = static_cast<int>(integer("threads", v));
    } else if (const char* v = value("seed")) {
      o.seed = static_cast<std::uint64_t>(integer("seed", v));
    } else if (const char* v = value("batch")) {
      o.batch = static_cast<int>(integer("batch", v));
    } else if (const char* v = value("nb101")) {
      o.nb101 = integer("nb101", v) != 0;
    } else if (const char* v = value("device")) {
      o.device = v;
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  if (o.threads < 1) throw Error("--threads must be >= 1");
  if (o.batch < 2) throw Error("--batch must be >= 2");
  return o;
}

int run(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Setup setup;
  setup.options = parse_own_flags(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Options& o = setup.options;
  const TorchRuntime runtime = configure_torch(o.device, o.threads);
  setup.device = torch::Device(runtime.device);
  const HostInfo host = host_info();

  const ImageSet train = load_cifar10_train(o.data_dir);
  setup.batch_indices = minibatch_indices(train.size(), o.batch, o.seed);
  std::tie(setup.images, setup.labels) =
      minibatch_tensors(make_minibatch(train, setup.batch_indices, kCifar10Normalisation, 32));
  setup.linear_region_inputs = linear_region_crops(train, o.seed);
  // The sweep's NNGP split with its defaults, so that nngp costs what it costs in a sweep.
  setup.nngp = prepare_nngp_split(train, "cifar10-exact-4k", setup.nngp_options.n_train,
                                  setup.nngp_options.n_val, o.seed, 32, 10);
  setup.archs = choose_architectures(o);
  g_setup = &setup;

  benchmark::AddCustomContext("nbz_host", host.host);
  benchmark::AddCustomContext("nbz_cpu", host.cpu);
  benchmark::AddCustomContext("nbz_cores", std::to_string(host.cores));
  benchmark::AddCustomContext("nbz_device", runtime.device);
  benchmark::AddCustomContext("nbz_device_name", runtime.device_name);
  benchmark::AddCustomContext("nbz_threads", std::to_string(runtime.threads));
  benchmark::AddCustomContext("nbz_blas", runtime.blas);
  benchmark::AddCustomContext("nbz_torch_version", runtime.torch_version);
  benchmark::AddCustomContext("nbz_build", std::string(build_type()) + ", " + compiler());
  benchmark::AddCustomContext("nbz_code_version", code_version());
  benchmark::AddCustomContext("nbz_seed", std::to_string(o.seed));
  benchmark::AddCustomContext("nbz_batch_size", std::to_string(o.batch));
  benchmark::AddCustomContext("nbz_batch_indices", json_list(setup.batch_indices));
  benchmark::AddCustomContext("nbz_images", "cifar10 training images, exact first 4000 "
                                            "(data_batch_1_first4000.bin)");
  benchmark::AddCustomContext(
      "nbz_nngp", std::to_string(setup.nngp_options.n_train) + " train, " +
                      std::to_string(setup.nngp_options.n_val) + " val, M = " +
                      std::to_string(setup.nngp_options.members) + ", cifar10-exact-4k");
  for (const auto& a : setup.archs)
    benchmark::AddCustomContext("nbz_arch " + a.label, a.space + " " + std::to_string(a.index) +
                                                           " " + a.arch + " params=" +
                                                           std::to_string(a.params));
  register_benchmarks(setup);
  if (setup.device.is_cuda() && !setup.archs.empty()) {
    // CUDA's context, cuBLAS/cuSOLVER handles and first kernel launches cost a second or more:
    // paid here, untimed, by every proxy on the first architecture, not by the first benchmark.
    Stopwatch warm_up;
    (void)score_architecture(engine_input(setup.archs.front()), resolve_proxy_list("all"));
    std::cerr << "nasbench_bench: warmed up " << runtime.device << " in " << warm_up.seconds()
              << " s (all proxies on " << setup.archs.front().label << ", untimed)\n";
  }
  FloorRatioReporter display;
  benchmark::RunSpecifiedBenchmarks(&display);
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace nbz::bench

int main(int argc, char** argv) {
  nbz::restart_with_matching_openblas_kernel(argv);
  try {
    return nbz::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "nasbench_bench: error: " << e.what() << "\n";
    return 2;
  }
}
