// nasbench: the command-line entry point. Torch-free on purpose (build time): every command that
// computes goes through suite/sweep.h.
#include <unistd.h>

#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "benchmarks_db/results_db.h"
#include "proxies/catalog.h"
#include "reports/correlation_report.h"
#include "reports/report_data.h"
#include "reports/report_writer.h"
#include "suite/cli_args.h"
#include "suite/errors.h"
#include "suite/sweep.h"
#include "suite/version_info.h"

namespace nbz {
namespace {

const char* kUsage =
    "usage: nasbench COMMAND [options]   (nasbench COMMAND --help for its options)\n"
    "commands:\n"
    "  sweep        score architectures with proxies into an SQLite results database (resumable)\n"
    "  report       correlation and timing tables from a results database\n"
    "  score        score one architecture and print JSON (no database)\n"
    "  check-space  build every network of a space and compare parameter counts with the benchmark\n"
    "  proxies      list the proxies with sign, family and the passes they need\n"
    "  version      code version and build\n";

void add_compute_options(ArgParser& args) {
  args.option("space", "search space", "nb201")
      .option("proxies", "comma-separated proxy names, or all", "all")
      .option("seed", "run seed: weights, minibatch, samples", "0")
      .option("batch", "minibatch size", "64")
      .option("batch-indices", "explicit training-image indices for the minibatch (comma list)")
      .option("dataset", "cifar10 | cifar100 | imagenet16-120 (head and input size)", "cifar10")
      .option("data", "shared data folder", NBZ_DEFAULT_DATA_DIR)
      .option("device", "cpu | cuda | cuda:N", "cpu")
      .option("threads", "intra-op threads (0 = all cores)", "0")
      .option("nngp-train", "NNGP training images", "1000")
      .option("nngp-val", "NNGP validation images (from the training split)", "500")
      .option("nngp-members", "NNGP: randomly initialised networks per kernel (M)", "4")
      .option("nngp-images", "NNGP image set: cifar10-exact-4k | cifar10-jpeg-50k",
              "cifar10-exact-4k");
}

SweepOptions compute_options(const ArgParser& args) {
  SweepOptions o;
  o.space = args.str("space");
  o.proxies = args.str("proxies");
  const auto seed = args.integer("seed");
  if (seed < 0) throw Error("--seed " + std::to_string(seed) + " must be >= 0");
  o.seed = static_cast<std::uint64_t>(seed);
  o.batch_size = static_cast<int>(args.integer("batch"));
  o.batch_indices = args.str("batch-indices");
  o.dataset = args.str("dataset");
  o.data_dir = args.str("data");
  o.device = args.str("device");
  o.threads = static_cast<int>(args.integer("threads"));
  o.nngp_train = static_cast<int>(args.integer("nngp-train"));
  o.nngp_val = static_cast<int>(args.integer("nngp-val"));
  o.nngp_members = static_cast<int>(args.integer("nngp-members"));
  o.nngp_images = args.str("nngp-images");
  if (o.threads < 0) throw Error("--threads " + std::to_string(o.threads) + " must be >= 0");
  return o;
}

int cmd_sweep(const std::vector<std::string>& argv, const std::string& command_line) {
  ArgParser args("sweep", "Score architectures with proxies into an SQLite results database. "
                          "Rerun with the same arguments to resume.");
  add_compute_options(args);
  args.option("archs", "all | A-B | i,j,... | sample:N[:SEED]", "all")
      .option("shard", "K/N: only every N-th selected architecture, starting at the K-th")
      .option("db", "results database file", "", true)
      .flag("no-progress-bar", "periodic progress lines even on a terminal");
  if (!args.parse(argv)) {
    std::cout << args.help();
    return 0;
  }
  SweepOptions o = compute_options(args);
  o.archs = args.str("archs");
  o.shard = args.str("shard");
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
  if (access(db_path.c_str(), F_OK) != 0)
    throw Error("results database '" + db_path + "' does not exist");
  const bool to_dir = args.is_set("out"), to_html = args.is_set("html");
  if (!to_dir && (args.is_set("table") || args.is_set("plots")))
    throw Error("--table and --plots write files: give --out DIR");
  db::ResultsDb database(db_path);
  if (!to_dir && !to_html) {
    report::print_correlation_report(report::correlation_report(database), std::cout);
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
  args.option("arch-index", "benchmark index of the architecture", "", true);
  if (!args.parse(argv)) {
    std::cout << args.help();
    return 0;
  }
  std::cout << score_one_json(compute_options(args), args.integer("arch-index")) << "\n";
  return 0;
}

int cmd_check_space(const std::vector<std::string>& argv) {
  ArgParser args("check-space", "Build every network and compare parameter counts.");
  args.option("space", "search space", "nb201")
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
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  try {
    if (command == "sweep") return cmd_sweep(args, command_line);
    if (command == "report") return cmd_report(args);
    if (command == "score") return cmd_score(args);
    if (command == "check-space") return cmd_check_space(args);
    if (command == "proxies") return cmd_proxies();
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
