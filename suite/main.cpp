// nasbench: the command-line entry point. Torch-free on purpose (build time): every command that
// computes goes through suite/sweep.h.
#include <SQLiteCpp/Statement.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "benchmarks_db/aggregate_selection.h"
#include "benchmarks_db/aggregates.h"
#include "benchmarks_db/bench_import.h"
#include "benchmarks_db/merge.h"
#include "benchmarks_db/results_db.h"
#include "foundation/errors.h"
#include "foundation/run_context.h"
#include "foundation/version_info.h"
#include "proxies/catalog.h"
#include "reports/correlation_report.h"
#include "reports/report_data.h"
#include "reports/report_table.h"
#include "reports/report_tables.h"
#include "reports/report_writer.h"
#include "spaces/arch_selection.h"
#include "spaces/nb101_space.h"
#include "spaces/nb201_space.h"
#include "suite/cli_args.h"
#include "suite/local_jobs.h"
#include "suite/sweep.h"

namespace nbz {
namespace {

const char* kUsage =
    "usage: nasbench COMMAND [options]   (nasbench COMMAND --help for its options)\n"
    "commands:\n"
    "  sweep        score architectures with proxies into an SQLite results database (resumable)\n"
    "  merge        combine results databases (shards of a sweep) into one\n"
    "  import-bench store nasbench_bench's JSON output in a results database as a timing run\n"
    "  report       correlation and timing tables from a results database\n"
    "  score        score one architecture and print JSON (no database)\n"
    "  check-space  build every network of a space and compare parameter counts (and NB101\n"
    "               hashes) with the benchmark\n"
    "  proxies      list the proxies with sign, family and the passes they need\n"
    "  aggregate    rank aggregates (vote, TE-NAS, mean rank, AZ-NAS log rank) from stored scores\n"
    "  version      code version and build\n";

void add_compute_options(ArgParser& args) {
  args.option("space", "search space: nb201 | nb101", "nb201")
      .option("proxies", "comma-separated proxy names, or all", "all")
      .option("seed", "run seed: weights, minibatch, samples", "0")
      .option("batch", "minibatch size (default: 64 for nb201, 128 for nb101)")
      .option("batch-indices", "explicit training-image indices for the minibatch (comma list)")
      .option("dataset", "cifar10 | cifar100 | imagenet16-120 (head and input size; nb101: "
                         "cifar10 only)", "cifar10")
      .option("data", "shared data folder", NBZ_DEFAULT_DATA_DIR)
      .option("device", "cpu | cuda | cuda:N", "cpu")
      .option("threads", "intra-op threads per process (0 = all cores, split between --jobs)", "0")
      .option("nngp-train", "NNGP training images", "1000")
      .option("nngp-val", "NNGP validation images (from the training split)", "500")
      .option("nngp-members", "NNGP: randomly initialised networks per kernel (M)", "4")
      .option("nngp-images", "NNGP image set: cifar10-exact-4k | cifar10-jpeg-50k",
              "cifar10-exact-4k")
      .option("train-epochs", "NTK time evolution: compute the requested NTK metrics and lga "
                              "also after each k of this list of training epochs (0 = at "
                              "initialisation), e.g. 0,1,2", "0")
      .option("train-images", "training set for --train-epochs: cifar10-exact-4k | "
                              "cifar10-jpeg-50k", "cifar10-exact-4k");
}

SweepOptions compute_options(const ArgParser& args) {
  SweepOptions o;
  o.space = args.str("space");
  o.proxies = args.str("proxies");
  const auto seed = args.integer("seed");
  if (seed < 0) throw Error("--seed " + std::to_string(seed) + " must be >= 0");
  o.seed = static_cast<std::uint64_t>(seed);
  if (args.is_set("batch")) {
    const auto batch = args.integer("batch");
    if (batch < 1 || batch > 1000000)
      throw Error("--batch " + std::to_string(batch) + " must be in 1..1000000");
    o.batch_size = static_cast<int>(batch);
  }  // else 0: the space's standard size (64 NB201, 128 NB101), chosen by the sweep
  o.batch_indices = args.str("batch-indices");
  o.dataset = args.str("dataset");
  o.data_dir = args.str("data");
  o.device = args.str("device");
  o.threads = static_cast<int>(args.integer("threads"));
  o.nngp_train = static_cast<int>(args.integer("nngp-train"));
  o.nngp_val = static_cast<int>(args.integer("nngp-val"));
  o.nngp_members = static_cast<int>(args.integer("nngp-members"));
  o.nngp_images = args.str("nngp-images");
  o.train_epochs = args.str("train-epochs");
  o.train_images = args.str("train-images");
  if (o.threads < 0) throw Error("--threads " + std::to_string(o.threads) + " must be >= 0");
  check_space_options(o);
  return o;
}

// The --archs and --shard checks that need no data, before a sweep loads anything (the NB101
// enumeration alone takes seconds). NB101 selections that need the enumerated space (truth,
// sample:, hashes:) are resolved by the sweep; everything else about them is checked here.
void check_selection(const SweepOptions& o, const std::string& archs, const std::string& shard) {
  if (o.space == "nb101")
    check_nb101_archs_syntax(archs, static_cast<std::int64_t>(nb101::kSpaceSize));
  else
    (void)select_architectures(archs, nb201::kSpaceSize, o.seed);
  if (!shard.empty()) (void)shard_selection({}, shard);
}

// `sweep --jobs J`: J child sweeps, child k taking shard k/J of this sweep's selection (of the
// user's --shard K/N when given), all writing into the same database.
int sweep_with_jobs(const ArgParser& args, const std::vector<std::string>& argv, int jobs) {
  const SweepOptions o = compute_options(args);
  // The checks that need no data, here once rather than J times from the children.
  (void)resolve_proxy_list(o.proxies);
  const std::string user_shard = args.str("shard");
  check_selection(o, args.str("archs"), user_shard);
  const int cores = host_info().cores;
  const int threads = child_threads(o.threads, jobs, cores);
  if (static_cast<long long>(jobs) * threads > cores)
    std::cerr << "nasbench sweep: warning: " << jobs << " processes x " << threads
              << " threads exceed the " << cores << " cores available\n";
  // Creates the schema (or refuses a foreign file) once, before the children race to do it.
  { db::ResultsDb database(args.str("db")); }

  const std::string exe = self_executable();
  std::vector<ChildProcess> children;
  for (int k = 1; k <= jobs; ++k) {
    const std::string shard = child_shard(user_shard, k, jobs);
    ChildProcess child;
    child.label = "job " + std::to_string(k) + "/" + std::to_string(jobs) + " shard " + shard;
    child.argv = {exe};
    for (auto& a : child_sweep_args(argv, {"no-progress-bar"}, shard, threads))
      child.argv.push_back(a);
    children.push_back(std::move(child));
  }
  std::cerr << "sweep: " << jobs << " processes x " << threads << " threads"
            << (user_shard.empty() ? "" : " within --shard " + user_shard) << " -> "
            << args.str("db") << "\n";
  const auto outcomes = run_children(children);
  int status = 0, failed = 0;
  for (const auto& c : outcomes) {
    std::cerr << "sweep: " << c.label << " (pid " << c.pid << ") "
              << (c.term_signal ? "killed by signal " + std::to_string(c.term_signal)
                                : "exited with status " + std::to_string(c.exit_code))
              << "\n";
    if (c.exit_code != 0) {
      ++failed;
      if (status == 0) status = c.exit_code;
    }
  }
  std::cout << "sweep --jobs " << jobs << ": " << (jobs - failed) << " of " << jobs
            << " processes completed -> " << args.str("db") << "\n";
  return status;
}

int cmd_sweep(const std::vector<std::string>& argv, const std::string& command_line) {
  ArgParser args("sweep", "Score architectures with proxies into an SQLite results database. "
                          "Rerun with the same arguments to resume.");
  add_compute_options(args);
  args.option("archs", "all | A-B | i,j,... | sample:N[:SEED]; nb101 also truth | "
                       "space-sample:N[:SEED] | hashes:FILE (README)", "all")
      .option("shard", "K/N: only every N-th selected architecture, starting at the K-th")
      .option("jobs", "J > 1: J local processes, process k sweeping shard k/J of the selection "
                      "(of --shard K/N: shard K+(k-1)N of N*J); with --threads 0 the cores are split between "
                      "them, else each process gets --threads", "1")
      .option("db", "results database file", "", true)
      .flag("no-progress-bar", "periodic progress lines even on a terminal");
  if (!args.parse(argv)) {
    std::cout << args.help();
    return 0;
  }
  const auto jobs = args.integer("jobs");
  if (jobs < 1 || jobs > 1024) throw Error("--jobs " + std::to_string(jobs) + " must be in 1..1024");
  if (jobs > 1) return sweep_with_jobs(args, argv, static_cast<int>(jobs));
  SweepOptions o = compute_options(args);
  o.archs = args.str("archs");
  o.shard = args.str("shard");
  check_selection(o, o.archs, o.shard);
  o.db_path = args.str("db");
  o.progress_bar = isatty(STDERR_FILENO) && !args.is_set("no-progress-bar");
  o.command_line = command_line;
  const SweepSummary s = run_sweep(o);
  std::cout << "sweep " << (s.interrupted ? "interrupted" : "done") << ": run " << s.run_id
            << ", " << s.archs_selected << " architectures selected, " << s.archs_already_done
            << " were already complete, " << s.archs_scored << " scored now; "
            << s.rows_inserted << " score rows stored (" << s.failed_rows << " failed) in "
            << s.seconds << " s -> " << o.db_path << "\n";
  return s.interrupted ? 130 : 0;
}

int cmd_merge(const std::vector<std::string>& argv, const std::string& command_line) {
  const char* usage =
      "usage: nasbench merge OUT.sqlite IN1.sqlite [IN2.sqlite ...]\n"
      "Combines results databases (the shards of a split sweep) into OUT, created when absent.\n"
      "Runs are matched by config_key, architectures by (space, arch_index), proxies by name;\n"
      "a score already in OUT is kept once, and a different value for the same (run, arch,\n"
      "proxy) is an error. Inputs are only read. One transaction: on any error OUT is left\n"
      "as it was.\n";
  std::vector<std::string> paths;
  for (const auto& a : argv) {
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    }
    if (a.rfind("--", 0) == 0) throw Error("nasbench merge: unknown option '" + a + "'");
    paths.push_back(a);
  }
  if (paths.size() < 2) throw Error(std::string("nasbench merge: need OUT and at least one input\n") + usage);
  const std::vector<std::string> inputs(paths.begin() + 1, paths.end());
  const auto stats = db::merge_databases(paths[0], inputs, command_line);
  db::MergeInputStats total;
  for (const auto& s : stats) {
    std::cout << s.path << ": " << s.scores_new << " scores added, " << s.scores_known
              << " already present; runs " << s.runs_new << " new, " << s.runs_known
              << " matched; sessions " << s.sessions_new << " new, " << s.sessions_known
              << " matched; " << s.archs_new << " architectures, " << s.proxies_new
              << " proxies, " << s.passes_new << " pass timings, " << s.truth_new
              << " ground-truth values added\n";
    total.scores_new += s.scores_new;
    total.scores_known += s.scores_known;
  }
  std::cout << "merged " << stats.size() << " databases into " << paths[0] << ": "
            << total.scores_new << " scores added, " << total.scores_known
            << " already present\n";
  return 0;
}

int cmd_import_bench(const std::vector<std::string>& argv, const std::string& command_line) {
  ArgParser args("import-bench",
                 "Store the JSON of build/nasbench_bench (--benchmark_out=FILE "
                 "--benchmark_out_format=json) in a results database as a timing run: one score "
                 "per proxy and architecture with the median seconds per call, floors and "
                 "whole-set times as passes (docs/schema.md, \"Timing runs\"). Importing the same "
                 "file again adds nothing.");
  args.option("db", "results database file (created when absent)", "", true)
      .option("json", "Google Benchmark JSON written by nasbench_bench", "", true);
  if (!args.parse(argv)) {
    std::cout << args.help();
    return 0;
  }
  const std::string json = args.str("json");
  if (access(json.c_str(), R_OK) != 0) throw Error("benchmark JSON '" + json + "' cannot be read");
  db::ResultsDb database(args.str("db"));
  const auto s = db::import_benchmark_json(database, json, command_line);
  for (const auto& line : s.lines) std::cout << "  " << line << "\n";
  for (const auto& note : s.notes) std::cerr << "nasbench import-bench: " << note << "\n";
  std::cout << "timing run " << s.run_id << (s.run_created ? " (new)" : " (already there)")
            << " in " << args.str("db") << ": " << s.archs << " architectures, "
            << s.proxy_timings << " proxy timings (" << s.failed_timings
            << " with a failed value), " << s.floors << " floors, " << s.sets
            << " whole-set timings; "
            << s.rows_inserted << " score rows added\n";
  return 0;
}

// Opening a path that does not exist would create an empty database: refuse it, naming the path.
void require_existing_db(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0)
    throw Error("results database '" + path + "' does not exist");
}

// Every run id of the database, ascending.
std::vector<std::int64_t> run_ids(db::ResultsDb& database) {
  SQLite::Statement q(database.sql(), "SELECT run_id FROM runs ORDER BY run_id");
  std::vector<std::int64_t> runs;
  while (q.executeStep()) runs.push_back(q.getColumn(0).getInt64());
  return runs;
}

int cmd_report(const std::vector<std::string>& argv) {
  ArgParser args("report",
                 "Without --out/--html: Kendall tau-b and Spearman rho of every proxy against "
                 "every ground-truth column, failures and seconds per architecture (text). "
                 "With --out DIR: every table (LaTeX, Markdown, CSV), figure (SVG, PNG) and "
                 "DIR/report.html; --table/--plots restrict what is written. With --html DIR: "
                 "the self-contained page DIR/report.html.");
  args.option("db", "results database file", "", true)
      .option("out", "directory for tables (.tex/.md/.csv), figures (.svg/.png) and report.html")
      .option("table", "with --out, only these tables: comma list of paper, proxy-corr, "
                       "correlations, seeds, timing, provenance, or all")
      .flag("plots", "with --out, write the figures (alone, or with the --table tables)")
      .option("html", "directory for the self-contained page report.html")
      .option("set", "architectures of the paper tables: all | sample | unique", "all")
      .option("split", "ground-truth split: auto (test, else valid) | test | valid", "auto")
      .option("epochs", "ground-truth training epochs (0 = the longest available)", "0")
      .option("ndcg-k", "k of the paper table's nDCG@k column", "10")
      .option("resamples", "bootstrap resamples", "1000")
      .option("bootstrap-seed", "bootstrap seed", "0");
  if (!args.parse(argv)) {
    std::cout << args.help();
    return 0;
  }
  const std::string db_path = args.str("db");
  require_existing_db(db_path);
  const bool to_dir = args.is_set("out"), to_html = args.is_set("html");
  if (!to_dir && (args.is_set("table") || args.is_set("plots")))
    throw Error("--table and --plots write files: give --out DIR");
  db::ResultsDb database(db_path);
  if (!to_dir && !to_html) {
    report::print_correlation_report(report::correlation_report(database), std::cout);
    // Runs that differ only in their seed: each proxy's spread over seeds and seed stability.
    const auto data = report::load_report_data(database);
    for (const auto& space : data.space_names())
      for (const auto& table : report::seed_tables(data, space, report::ReportOptions{}))
        std::cout << "\n" << report::render_markdown(table);
    return 0;
  }
  report::ReportOptions options;
  options.set = args.str("set");
  options.split = args.str("split");
  const auto epochs = args.integer("epochs"), ndcg_k = args.integer("ndcg-k");
  const auto resamples = args.integer("resamples"), seed = args.integer("bootstrap-seed");
  if (epochs < 0) throw Error("--epochs " + std::to_string(epochs) + " must be >= 0");
  if (ndcg_k < 1) throw Error("--ndcg-k " + std::to_string(ndcg_k) + " must be >= 1");
  if (resamples < 1 || resamples > 1000000)
    throw Error("--resamples " + std::to_string(resamples) + " must be in 1..1000000");
  if (seed < 0) throw Error("--bootstrap-seed " + std::to_string(seed) + " must be >= 0");
  options.epochs = static_cast<int>(epochs);
  options.ndcg_k = static_cast<std::size_t>(ndcg_k);
  options.resamples = static_cast<int>(resamples);
  options.bootstrap_seed = static_cast<std::uint64_t>(seed);

  std::set<std::string> kinds;  // empty: all
  if (args.is_set("table") && args.str("table") != "all") {
    std::stringstream list(args.str("table"));
    for (std::string kind; std::getline(list, kind, ',');) kinds.insert(kind);
    if (kinds.empty()) throw Error("--table '' names no table");
  }
  const bool restricted = args.is_set("table") || args.is_set("plots");
  const auto data = report::load_report_data(database);
  // Everything is built when the page needs it; a restricted --out builds only what it writes.
  const bool need_all = to_html || !restricted;
  const auto everything = need_all ? report::build_report(data, options, {}, true)
                                   : report::ReportBundle{};
  if (to_dir) {
    const auto bundle = restricted ? report::build_report(data, options, kinds,
                                                          args.is_set("plots"))
                                   : everything;
    for (const auto& r : bundle.remarks) std::cerr << "nasbench report: " << r << "\n";
    const auto written = report::write_bundle(bundle, args.str("out"));
    for (const auto& f : written.files) std::cout << f << "\n";
    for (const auto& w : written.warnings) std::cerr << "nasbench report: warning: " << w << "\n";
    if (!restricted)
      std::cout << report::write_html(data, everything, options, args.str("out")) << "\n";
  }
  if (to_html) {
    if (!to_dir)
      for (const auto& r : everything.remarks) std::cerr << "nasbench report: " << r << "\n";
    std::cout << report::write_html(data, everything, options, args.str("html")) << "\n";
  }
  return 0;
}

int cmd_score(const std::vector<std::string>& argv) {
  ArgParser args("score", "Score one architecture with the engine and print JSON.");
  add_compute_options(args);
  args.option("arch-index", "the architecture: nb201 = the benchmark's index; nb101 = position "
                             "of its module hash in the sorted space", "", true);
  if (!args.parse(argv)) {
    std::cout << args.help();
    return 0;
  }
  std::cout << score_one_json(compute_options(args), args.integer("arch-index")) << "\n";
  return 0;
}

int cmd_check_space(const std::vector<std::string>& argv) {
  ArgParser args("check-space",
                 "nb201: build every network and compare parameter counts. nb101: enumerate the "
                 "space (423,624 hashes), hash every ground-truth spec, and count the parameters "
                 "of every ground-truth row. Exit status 1 on any mismatch.");
  args.option("space", "search space: nb201 | nb101", "nb201")
      .option("data", "shared data folder", NBZ_DEFAULT_DATA_DIR)
      .option("threads", "intra-op threads (0 = all cores)", "0");
  if (!args.parse(argv)) {
    std::cout << args.help();
    return 0;
  }
  return check_space(args.str("space"), args.str("data"),
                     static_cast<int>(args.integer("threads"))) == 0
             ? 0
             : 1;
}

// The selection sample's arch_index values, resolved as `sweep --archs` resolves them for the
// run's space and seed (NB101 against the cells and ground truth stored in the database).
std::set<std::int64_t> resolve_selection(db::ResultsDb& database, std::int64_t run,
                                         const std::string& spec) {
  SQLite::Statement q(database.sql(), "SELECT space, seed FROM runs WHERE run_id = ?");
  q.bind(1, run);
  if (!q.executeStep())
    throw Error("results database '" + database.path() + "' has no run " + std::to_string(run));
  const std::string space = q.getColumn(0).getString();
  const auto seed = static_cast<std::uint64_t>(q.getColumn(1).getInt64());
  std::vector<std::int64_t> indices;
  if (space == "nb201") {
    indices = select_architectures(spec, nb201::kSpaceSize, seed);
  } else {
    Nb101Catalog catalog;
    catalog.space_size = static_cast<std::int64_t>(nb101::kSpaceSize);
    SQLite::Statement truth(database.sql(), "SELECT DISTINCT arch_index FROM ground_truth WHERE "
                                            "space = ? ORDER BY arch_index");
    truth.bind(1, space);
    while (truth.executeStep()) catalog.truth_indices.push_back(truth.getColumn(0).getInt64());
    catalog.index_of = [&database, space](const std::string& hash) -> std::int64_t {
      SQLite::Statement find(database.sql(),
                             "SELECT arch_index FROM architectures WHERE space = ? AND arch = ?");
      find.bind(1, space);
      find.bind(2, hash);
      return find.executeStep() ? find.getColumn(0).getInt64() : -1;
    };
    indices = select_nb101_architectures(spec, catalog, seed);
  }
  return {indices.begin(), indices.end()};
}

int select_and_evaluate_aggregate(const ArgParser& args, const std::string& command_line) {
  const std::string path = args.str("db");
  require_existing_db(path);
  db::ResultsDb database(path);
  std::int64_t run = args.integer("run");
  if (run <= 0) {
    const auto runs = run_ids(database);
    if (runs.size() != 1)
      throw Error("nasbench aggregate --select: '" + path + "' has " +
                  std::to_string(runs.size()) + " runs; name one with --run");
    run = runs[0];
  }
  const std::string select = args.str("select");
  const auto eq = select.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == select.size() ||
      select.find(':') != std::string::npos)
    throw Error("--select '" + select + "' is not NAME=RULE (e.g. selected=mean_rank)");
  db::AggregateSelectionOptions o;
  o.name = select.substr(0, eq);
  o.rule = select.substr(eq + 1);
  o.selection_label = args.str("selection-archs");
  o.selection = resolve_selection(database, run, o.selection_label);
  o.truth = db::parse_truth_column(args.str("truth"));
  o.candidates = args.list("candidates");
  if (args.integer("max-members") < 2)
    throw Error("--max-members " + args.str("max-members") + ": must be at least 2");
  o.max_members = static_cast<std::size_t>(args.integer("max-members"));
  o.min_gain = args.real("min-gain");
  if (o.min_gain < 0) throw Error("--min-gain " + args.str("min-gain") + ": must be >= 0");

  const auto chosen = db::select_aggregate(database, run, o);
  std::cout << "selection: " << chosen.selection_cells << " cells of " << o.selection_label
            << " (run " << run << ") with every candidate ok, against " << chosen.truth_label
            << "; rule " << o.rule << "\n  each candidate alone (Kendall tau-b):";
  char tau[32];
  for (const auto& [name, value] : chosen.singles) {
    std::snprintf(tau, sizeof tau, "%.4f", value);
    std::cout << " " << name << " " << tau;
  }
  std::cout << "\n  greedy steps:";
  for (const auto& step : chosen.steps) {
    std::snprintf(tau, sizeof tau, "%.4f", step.kendall);
    std::cout << " +" << step.added << " -> " << tau;
  }
  std::cout << "\n";
  auto def = chosen.definition;
  def.description = chosen.description();
  const auto counts = db::compute_aggregate(database, run, def, command_line);
  std::cout << "stored " << def.name << " (" << def.parameters() << ") on " << counts.scored
            << " architectures";
  if (counts.failed > 0) std::cout << ", " << counts.failed << " stored as failed";
  std::cout << "\n";

  // Evaluation outside the selection sample: the chosen aggregate, every single proxy of the run
  // and every other stored aggregate (vote, tenas, ...).
  const auto singles = db::score_proxies_of_run(database, run);
  std::vector<std::string> shown = {def.name};
  shown.insert(shown.end(), singles.begin(), singles.end());
  for (const auto& name : db::aggregate_proxies_of_run(database, run))
    if (name != def.name) shown.push_back(name);
  const auto table = db::evaluate_outside(database, run, shown, o.truth, o.selection);
  const auto contains = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  std::cout << "evaluation on the run's architectures outside " << o.selection_label
            << ", against " << chosen.truth_label << " (n: cells where the proxy is ok; common: "
            << (table.empty() ? 0 : table[0].common_archs)
            << " cells where every proxy listed is ok):\n"
            << "  proxy                       n  kendall  spearman  common kendall  spearman\n";
  // The table is sorted by Kendall on each proxy's own cells; the best single proxy is judged on
  // both sets of cells.
  const db::ProxyEvaluation *best_single = nullptr, *best_single_common = nullptr,
                            *selected = nullptr;
  for (const auto& e : table) {
    const bool single = contains(singles, e.proxy);
    if (single && !best_single) best_single = &e;
    if (single && (!best_single_common || e.common_kendall > best_single_common->common_kendall))
      best_single_common = &e;
    if (e.proxy == def.name) selected = &e;
    const char* mark = e.proxy == def.name              ? "  <- selected"
                       : contains(def.members, e.proxy) ? "  (member)"
                       : single                         ? ""
                                                        : "  (aggregate)";
    char line[200];
    std::snprintf(line, sizeof line, "  %-22s %6lld  %7.4f  %8.4f         %7.4f  %8.4f%s",
                  e.proxy.c_str(), static_cast<long long>(e.archs), e.kendall, e.spearman,
                  e.common_kendall, e.common_spearman, mark);
    std::cout << line << "\n";
  }
  if (selected && best_single && best_single_common) {
    char line[300];
    std::snprintf(line, sizeof line,
                  "%s - best single proxy, Kendall tau: %+.4f on each one's cells (%s), %+.4f on "
                  "the common cells (%s)\n",
                  def.name.c_str(), selected->kendall - best_single->kendall,
                  best_single->proxy.c_str(),
                  selected->common_kendall - best_single_common->common_kendall,
                  best_single_common->proxy.c_str());
    std::cout << line;
  }
  return 0;
}

int cmd_aggregate(const std::vector<std::string>& argv, const std::string& command_line) {
  ArgParser args("aggregate", "Label-free rank aggregates computed from stored scores, stored as "
                              "proxies of their own (no network is run).");
  args.option("db", "results database file", "", true)
      .option("run", "run id (0 = every run of the database)", "0")
      .option("define", "NAME=RULE:a,b[;NAME=RULE:...], RULE in mean_rank, rank_sum, log_rank, vote")
      .flag("standard", "vote=vote:synflow,jacob_cov,snip and tenas=rank_sum:ntk_cond,linear_regions")
      .option("select", "NAME=RULE: choose the members by the rule of "
                        "benchmarks_db/aggregate_selection.h on --selection-archs, store the "
                        "aggregate, and evaluate it on the run's other architectures")
      .option("selection-archs", "with --select: the selection sample, an --archs spec "
                                 "(sample:N[:S] draws with the run's seed unless S is given)",
              "sample:1000:1")
      .option("truth", "with --select: ground-truth column DATASET[:SPLIT[:EPOCHS]] "
                       "(EPOCHS 0 or left out = the longest stored)", "cifar10:test")
      .option("candidates", "with --select: comma list of candidate proxies (default: every "
                            "score proxy of the run that is not an aggregate)")
      .option("max-members", "with --select: at most this many members", "5")
      .option("min-gain", "with --select: a third or later member must raise the selection "
                          "Kendall tau by at least this", "0.005");
  if (!args.parse(argv)) {
    std::cout << args.help();
    return 0;
  }
  if (args.is_set("select")) return select_and_evaluate_aggregate(args, command_line);
  std::vector<db::AggregateDefinition> defs;
  if (args.is_set("standard")) defs = db::standard_aggregates();
  for (const auto& item : args.list("define", ';')) defs.push_back(db::parse_aggregate(item));
  if (defs.empty()) throw Error("nasbench aggregate: give --define and/or --standard");
  require_existing_db(args.str("db"));
  db::ResultsDb database(args.str("db"));
  const std::vector<std::int64_t> runs =
      args.integer("run") > 0 ? std::vector<std::int64_t>{args.integer("run")} : run_ids(database);
  int failures = 0;
  for (auto run : runs)
    for (const auto& def : defs) {
      try {
        const auto n = db::compute_aggregate(database, run, def, command_line);
        std::cout << "run " << run << ": " << def.name << " (" << def.parameters() << ") on "
                  << n.scored << " architectures";
        if (n.failed > 0)
          std::cout << ", " << n.failed << " stored as failed (a member failed or is missing)";
        std::cout << "\n";
      } catch (const Error& e) {
        // A run without one member (e.g. no NTK) skips that aggregate; the others still run.
        std::cerr << "run " << run << ": " << def.name << " skipped: " << e.what() << "\n";
        ++failures;
      }
    }
  return failures == static_cast<int>(runs.size() * defs.size()) ? 2 : 0;
}

int cmd_proxies() {
  for (const auto& p : proxy_catalog()) {
    std::string passes;
    for (Pass pass : p.passes) passes += (passes.empty() ? "" : ",") + std::string(pass_name(pass));
    std::cout << p.name << "\tsign " << (p.sign > 0 ? "+" : "-") << "\t" << p.family
              << (p.auxiliary ? " (auxiliary)" : "") << "\tpasses " << passes << "\n    "
              << p.description << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace nbz

int main(int argc, char** argv) {
  using namespace nbz;
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  restart_with_matching_openblas_kernel(argv);
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  try {
    if (command == "sweep") return cmd_sweep(args, command_line);
    if (command == "merge") return cmd_merge(args, command_line);
    if (command == "import-bench") return cmd_import_bench(args, command_line);
    if (command == "report") return cmd_report(args);
    if (command == "score") return cmd_score(args);
    if (command == "check-space") return cmd_check_space(args);
    if (command == "proxies") return cmd_proxies();
    if (command == "aggregate") return cmd_aggregate(args, command_line);
    if (command == "version") {
      std::cout << "nasbench " << code_version() << " (" << build_type() << ", " << compiler()
                << ")\n";
      return 0;
    }
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "nasbench: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const Error& e) {
    std::cerr << "nasbench " << command << ": error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nasbench " << command << ": error: " << e.what() << "\n";
    return 3;
  }
}
