// The research reports from databases written row by row through ResultsDb (no torch): paper
// tables with hand-computed values, markers and family groups; architecture sets; seeds; timing
// and cross-device ratios; the LaTeX / Markdown / CSV renderings; SVG and PNG figures; and the
// HTML page rendered in headless Chromium.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "benchmarks_db/results_db.h"
#include "foundation/errors.h"
#include "foundation/statistics.h"
#include "reports/correlation_report.h"
#include "reports/plots.h"
#include "reports/report_data.h"
#include "reports/report_tables.h"
#include "reports/report_writer.h"
#include "spaces/arch_selection.h"

namespace nbz::report {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/nbz_report_XXXXXX";
  return mkdtemp(tmpl);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// Width and height from a PNG's IHDR chunk; nullopt when the file is not a PNG.
std::optional<std::pair<unsigned, unsigned>> png_size(const std::string& bytes) {
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      bytes.compare(12, 4, "IHDR") != 0)
    return std::nullopt;
  auto be32 = [&](std::size_t at) {
    unsigned v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return std::make_pair(be32(16), be32(20));
}

// A results database written the way a sweep writes it.
class TestDb {
 public:
  TestDb() : dir_(temp_dir()), path_(dir_ + "/results.sqlite"), db_(path_) {
    ids_ = db_.ensure_proxies({
        {"params", 1, "architecture", "score", "build", "", "parameters"},
        {"snip", 1, "gradient", "score", "build,train_forward,loss_grad", "", "snip"},
        {"synflow_log", 1, "gradient", "auxiliary", "build,synflow_pass", "", "aux"},
        {"naswot", 1, "jacobian-activation", "score", "build,train_forward", "", "naswot"},
        {"ntk_cond", -1, "ntk", "score", "build,ntk", "", "condition number, lower is better"},
        {"agg", 1, "aggregate", "score", "build", "", "an aggregate"},
        {"zz_new", 1, "weird", "score", "build", "", "a family the reports do not know"},
    });
  }

  db::ResultsDb& db() { return db_; }
  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }

  void add_archs(const std::string& space, const std::vector<std::int64_t>& indices,
                 const std::map<std::int64_t, std::string>& keys = {}) {
    std::vector<db::ArchRow> rows;
    for (auto i : indices)
      rows.push_back({i, space + "-arch-" + std::to_string(i),
                      keys.count(i) ? keys.at(i) : "key" + std::to_string(i)});
    for (const auto& [index, id] : db_.ensure_architectures(space, rows))
      arch_ids_[{space, index}] = id;
  }

  void add_truth(const std::string& space, const std::string& dataset, const std::string& split,
                 int epochs, const std::vector<std::int64_t>& indices,
                 const std::vector<double>& values) {
    std::vector<db::TruthRow> rows;
    for (std::size_t i = 0; i < indices.size(); ++i)
      rows.push_back({indices[i], dataset, split, epochs, values[i]});
    db_.import_truth(space, "test.csv", rows);
  }

  std::int64_t add_run(const std::string& space, const std::string& dataset, std::int64_t seed,
                       const std::string& device = "cpu",
                       const std::string& device_name = "Test CPU",
                       const std::string& images = "cifar10 training images",
                       const std::string& archs = "") {
    db::RunRecord r;
    r.config_key = space + ";" + dataset + ";" + std::to_string(seed) + ";" + device + ";" + images +
                   ";" + archs;
    r.space = space;
    r.dataset = dataset;
    r.images = images;
    r.seed = seed;
    r.batch_size = 64;
    r.batch_indices = "[1,2]";
    r.device = device;
    r.device_name = device_name;
    r.threads = 2;
    r.blas = "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblasp-r0.3.21.so (OpenBLAS 0.3.21 "
             "USE_OPENMP Cooperlake)";
    r.torch_version = "1.13.0";
    r.code_version = "test";
    r.build = "Release";
    r.host = "testhost";
    r.cpu = "Test CPU";
    r.options_json = "{}";
    const auto run = db_.find_or_create_run(r);
    sessions_[run] = db_.begin_session(run, "nasbench sweep --test", "testhost", "test");
    return run;
  }

  // One architecture's rows: value per proxy (nullopt = failed), seconds for each.
  void score(std::int64_t run, const std::string& space, std::int64_t arch,
             const std::map<std::string, std::optional<double>>& values, double seconds = 0.001) {
    std::vector<db::ScoreRow> rows;
    for (const auto& [name, value] : values) {
      db::ScoreRow s;
      s.proxy_id = ids_.at(name);
      s.ok = value.has_value();
      const int sign = name == "ntk_cond" ? -1 : 1;
      if (s.ok) {
        s.value = *value;
        s.rank_value = sign * *value;
      } else {
        s.failure_reason = "non-finite value: nan";
      }
      s.own_seconds = seconds / 2;
      s.shared_seconds = seconds / 2;
      rows.push_back(s);
    }
    db_.store_arch_result(run, sessions_.at(run), arch_ids_.at({space, arch}), rows, {});
  }

  void finish() {
    for (const auto& [run, session] : sessions_) db_.end_session(session, "completed");
  }

 private:
  std::string dir_, path_;
  db::ResultsDb db_;
  std::map<std::string, std::int64_t> ids_;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> arch_ids_;
  std::map<std::int64_t, std::int64_t> sessions_;
};

const std::vector<std::int64_t> kArchs = {0, 1, 2, 3, 4, 5};
const double kNaswotTau = std::sqrt(11.0 / 15.0);  // x = 1,2,2,3,3,3 against a strict order

// NB201 with six architectures: a cifar10 run, a cifar100 run on surrogate images, no
// ImageNet16-120 run (its column falls back to the cifar10 run).
void fill_nb201(TestDb& t) {
  t.add_archs("nb201", kArchs, {{0, "same"}, {3, "same"}});
  const std::vector<double> up = {90, 91, 92, 93, 94, 95}, down = {75, 74, 73, 72, 71, 70};
  for (const char* split : {"test", "valid"}) {
    t.add_truth("nb201", "cifar10", split, 200, kArchs, up);
    t.add_truth("nb201", "cifar10", split, 12, kArchs, down);
    t.add_truth("nb201", "cifar100", split, 200, kArchs, down);
    t.add_truth("nb201", "cifar100", split, 12, kArchs, up);
    t.add_truth("nb201", "imagenet16-120", split, 200, kArchs, {40, 41, 42, 43, 44, 45});
    t.add_truth("nb201", "imagenet16-120", split, 12, kArchs, {40, 41, 42, 43, 44, 45});
  }
  const auto c10 = t.add_run("nb201", "cifar10", 0);
  const auto c100 = t.add_run("nb201", "cifar100", 0, "cpu", "Test CPU",
                              "SURROGATE: cifar10 training images stand in for cifar100");
  const double naswot[] = {1, 2, 2, 3, 3, 3};
  for (auto a : kArchs) {
    const double i = static_cast<double>(a);
    std::optional<double> agg = i + 10;
    if (a == 0) agg.reset();  // one failure: n = 5 for agg
    // seconds: params 1..6 ms
    t.score(c10, "nb201", a,
            {{"params", i}, {"snip", -i}, {"synflow_log", i}, {"naswot", naswot[a]},
             {"ntk_cond", -i}, {"agg", agg}, {"zz_new", 7.0}},
            0.001 * (i + 1));
    t.score(c100, "nb201", a, {{"params", i}, {"snip", -i}, {"naswot", naswot[a]}});
  }
  t.finish();
}

const TableRow& row_of(const Table& t, const std::string& label) {
  for (const auto& r : t.rows)
    if (!r.section && r.label == label) return r;
  throw std::runtime_error("no row " + label + " in " + t.id);
}

TEST(ReportTable, BestMarksEscapingAndQuoting) {
  Table t;
  t.id = "t";
  t.title = "a & b | c";
  t.stub = "name";
  t.columns = {"x", "y"};
  t.csv_columns = {"x", "y"};
  t.add_section("first");
  t.add_row("a_1").cells = {number_cell(0.5, 2), text_cell("same")};
  t.add_row("b, \"quoted\"").cells = {number_cell(0.25, 2), text_cell("same")};
  t.add_row("c").cells = {number_cell(std::nan(""), 2), number_cell(3, 0)};
  t.add_section("second");
  t.add_row("d").cells = {number_cell(1, 2), number_cell(3, 0)};
  t.add_row("e").cells = {number_cell(1, 2), number_cell(3, 0)};
  mark_best(t, {0, 1}, true);
  EXPECT_TRUE(t.rows[1].cells[0].best);   // 0.50 beats 0.25 and the NaN
  EXPECT_FALSE(t.rows[2].cells[0].best);
  EXPECT_FALSE(t.rows[3].cells[0].best);
  EXPECT_TRUE(t.rows[3].cells[1].best);   // 3 is the only number of its column and section
  EXPECT_FALSE(t.rows[5].cells[0].best);  // all equal within the section: nothing to mark
  mark_best(t, {0}, false);
  EXPECT_TRUE(t.rows[5].cells[0].best && t.rows[6].cells[0].best);  // a tie at 1.00, both
  EXPECT_FALSE(t.rows[1].cells[0].best);

  EXPECT_EQ(latex_escape("a_1 & 50% #x {y} ~ ^ \\ † τ ×"),
            "a\\_1 \\& 50\\% \\#x \\{y\\} \\textasciitilde{} \\textasciicircum{} "
            "\\textbackslash{} $^\\dagger$ $\\tau$ $\\times$");
  EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  const auto csv = render_csv(t);
  EXPECT_NE(csv.find("first,\"b, \"\"quoted\"\"\",0.25,same,\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("first,c,,3,y\n"), std::string::npos) << csv;  // NaN: an empty field
  EXPECT_NE(render_markdown(t).find("**a & b \\| c**"), std::string::npos);
  EXPECT_NE(render_html(t).find("<caption>a &amp; b | c</caption>"), std::string::npos);
  EXPECT_EQ(format_fixed(-0.0001, 3), "0.000");  // no "-0.000"
  EXPECT_EQ(format_fixed(std::nan(""), 3), "–");
}

TEST(PaperTable, HandComputedValuesFamilyGroupsAndMarkers) {
  TestDb t;
  fill_nb201(t);
  const auto data = load_report_data(t.db());
  const auto paper = paper_table(data, "nb201", ReportOptions{});
  ASSERT_TRUE(paper);
  const Table& table = paper->table;
  // Columns: one group of KT, SPR, nDCG@10 per dataset; the cifar100 run is a surrogate (†),
  // ImageNet16-120 has no run and uses the cifar10 run (‡).
  ASSERT_EQ(table.groups.size(), 3u);
  EXPECT_EQ(table.groups[0].label, "CIFAR-10");
  EXPECT_EQ(table.groups[1].label, "CIFAR-100†");
  EXPECT_EQ(table.groups[2].label, "ImageNet16-120‡");
  EXPECT_EQ(paper->columns[1].run->info.dataset, "cifar100");
  EXPECT_TRUE(paper->columns[2].other_dataset_run);
  EXPECT_EQ(paper->columns[2].run->info.dataset, "cifar10");
  EXPECT_EQ(paper->columns[0].truth.split, "test");
  EXPECT_EQ(paper->columns[0].truth.epochs, 200);

  // Rows grouped by family in the fixed order, unknown families last; auxiliary never a row.
  std::vector<std::string> labels;
  for (const auto& r : table.rows) labels.push_back((r.section ? "#" : "") + r.label);
  const std::vector<std::string> expected = {
      "#Architecture-only", "params", "#Gradient", "snip", "#Jacobian / activation", "naswot",
      "#NTK", "ntk_cond", "#Aggregates", "agg", "#weird", "zz_new"};
  EXPECT_EQ(labels, expected);

  // params = index: perfect against CIFAR-10 (ascending) and reversed against CIFAR-100.
  EXPECT_EQ(row_of(table, "params").cells[0].text, "1.000");
  EXPECT_EQ(row_of(table, "params").cells[1].text, "1.000");
  EXPECT_EQ(row_of(table, "params").cells[2].text, "1.000");  // nDCG of the ideal order
  EXPECT_EQ(row_of(table, "params").cells[3].text, "-1.000");
  EXPECT_EQ(row_of(table, "snip").cells[0].text, "-1.000");
  // ntk_cond: value = -index with sign -1, so rank_value = index: tau must be +1, not -1.
  EXPECT_EQ(row_of(table, "ntk_cond").cells[0].text, "1.000");
  // naswot with ties: tau-b = 11 / sqrt(11 * 15).
  EXPECT_NEAR(paper->values[2][0].tau, kNaswotTau, 1e-12);
  EXPECT_EQ(row_of(table, "naswot").cells[0].text, "0.856");
  // A constant proxy has no correlation; the failed row leaves agg with five architectures.
  EXPECT_EQ(row_of(table, "zz_new").cells[0].text, "–");
  EXPECT_EQ(paper->values[4][0].n, 5);
  EXPECT_EQ(paper->values[0][0].n, 6);
  // agg and zz_new have no cifar100 scores.
  EXPECT_EQ(row_of(table, "agg").cells[3].text, "–");

  // Best per column: params and ntk_cond tie at 1.000 in CIFAR-10 KT.
  EXPECT_TRUE(row_of(table, "params").cells[0].best);
  EXPECT_TRUE(row_of(table, "ntk_cond").cells[0].best);
  EXPECT_FALSE(row_of(table, "naswot").cells[0].best);
  EXPECT_TRUE(row_of(table, "snip").cells[3].best);  // CIFAR-100 is descending: snip = -index
  EXPECT_EQ(row_of(table, "snip").cells[3].text, "1.000");
  EXPECT_FALSE(row_of(table, "params").cells[3].best);

  std::string notes;
  for (const auto& n : table.notes) notes += n + "\n";
  EXPECT_NE(notes.find("agg 5"), std::string::npos) << notes;
  EXPECT_NE(notes.find("† run 2 (cifar100"), std::string::npos) << notes;
  EXPECT_NE(notes.find("‡ No ImageNet16-120 run in this database: run 1 (cifar10"),
            std::string::npos)
      << notes;
}

TEST(PaperTable, RenderingsInLatexMarkdownAndCsv) {
  TestDb t;
  fill_nb201(t);
  const auto data = load_report_data(t.db());
  const auto table = paper_table(data, "nb201", ReportOptions{})->table;

  const auto tex = render_latex(table);
  EXPECT_NE(tex.find("\\begin{tabular}{lrrr@{\\quad}rrr@{\\quad}rrr}"), std::string::npos) << tex;
  for (const char* s : {"\\toprule", "\\midrule", "\\bottomrule", "\\end{tabular}",
                        "\\multicolumn{3}{c}{CIFAR-100$^\\dagger$}",
                        "\\multicolumn{3}{c}{ImageNet16-120$^\\ddagger$}", "\\cmidrule(lr){2-4}",
                        "ntk\\_cond", "\\textbf{1.000}", "\\multicolumn{10}{l}{\\textit{NTK}}"})
    EXPECT_NE(tex.find(s), std::string::npos) << s;
  EXPECT_EQ(tex.find("synflow"), std::string::npos);
  EXPECT_NE(tex.find("snip & $-$1.000 & $-$1.000 & 0.609 & \\textbf{1.000}"), std::string::npos)
      << tex;
  EXPECT_EQ(count(tex, "{"), count(tex, "}"));
  // Every proxy row has the label and nine values: nine ampersands.
  std::istringstream lines(tex);
  int data_rows = 0;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("naswot", 0) == 0 || line.rfind("params", 0) == 0) {
      EXPECT_EQ(count(line, "&"), 9u) << line;
      ++data_rows;
    }
  EXPECT_EQ(data_rows, 2);

  const auto md = render_markdown(table);
  EXPECT_NE(md.find("| proxy | CIFAR-10 KT | CIFAR-10 SPR | CIFAR-10 nDCG@10 | CIFAR-100† KT |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| params | **1.000** | **1.000** | **1.000** | -1.000 |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| *Jacobian / activation* |"), std::string::npos);

  const auto csv = render_csv(table);
  std::istringstream csv_lines(csv);
  std::string header;
  std::getline(csv_lines, header);
  EXPECT_EQ(header,
            "section,proxy,cifar10_kt,cifar10_spr,cifar10_ndcg10,cifar100_kt,cifar100_spr,"
            "cifar100_ndcg10,imagenet16-120_kt,imagenet16-120_spr,imagenet16-120_ndcg10,best");
  bool saw_naswot = false;
  int comment_lines = 0;
  for (std::string line; std::getline(csv_lines, line);) {
    if (line.rfind("# ", 0) == 0) {
      ++comment_lines;
      continue;
    }
    EXPECT_EQ(count(line, ","), 11u) << line;  // section, proxy, 9 values, best
    if (line.rfind("Jacobian / activation,naswot,", 0) == 0) {
      saw_naswot = true;
      const std::string prefix = "Jacobian / activation,naswot,";
      const double tau = std::stod(line.substr(prefix.size()));
      EXPECT_NEAR(tau, kNaswotTau, 1e-9);  // full precision, not the displayed 0.856
    }
  }
  EXPECT_TRUE(saw_naswot);
  EXPECT_EQ(comment_lines, static_cast<int>(table.notes.size()));
  EXPECT_NE(csv.find("Architecture-only,params,1,1,1,-1,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",cifar10_kt;cifar10_spr;cifar10_ndcg10;imagenet16-120_kt"),
            std::string::npos);
}

TEST(PaperTable, TruthSplitAndEpochsOptionsAndErrors) {
  TestDb t;
  fill_nb201(t);
  const auto data = load_report_data(t.db());
  ReportOptions o;
  o.epochs = 12;
  o.split = "valid";
  const auto paper = paper_table(data, "nb201", o);
  // cifar10 at 12 epochs is descending: params turns to -1.
  EXPECT_EQ(paper->columns[0].truth.epochs, 12);
  EXPECT_EQ(paper->columns[0].truth.split, "valid");
  EXPECT_DOUBLE_EQ(paper->values[0][0].tau, -1.0);
  o.epochs = 36;
  try {
    paper_table(data, "nb201", o);
    FAIL() << "36 epochs do not exist for nb201";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--epochs 36"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("12, 200"), std::string::npos) << e.what();
  }
  o = ReportOptions{};
  o.split = "train";
  EXPECT_THROW(paper_table(data, "nb201", o), Error);
  o = ReportOptions{};
  o.set = "bogus";
  EXPECT_THROW(paper_table(data, "nb201", o), Error);
  EXPECT_THROW(build_report(data, ReportOptions{}, {"paper", "bogus"}, false), Error);
}

TEST(PaperTable, NasBench101UsesWhateverTruthExists) {
  TestDb t;
  const std::vector<std::int64_t> archs = {10, 20, 30, 40};
  t.add_archs("nb101", archs);
  t.add_truth("nb101", "cifar10", "valid", 108, archs, {93, 94, 91, 92});
  t.add_truth("nb101", "cifar10", "valid", 36, archs, {91, 92, 93, 94});
  t.add_truth("nb101", "cifar10", "valid", 4, archs, {50, 40, 60, 55});
  const auto run = t.add_run("nb101", "cifar10", 0);
  for (auto a : archs) t.score(run, "nb101", a, {{"params", static_cast<double>(a)}});
  t.finish();
  const auto data = load_report_data(t.db());
  auto paper = paper_table(data, "nb101", ReportOptions{});
  ASSERT_TRUE(paper);
  ASSERT_EQ(paper->columns.size(), 1u);
  EXPECT_EQ(paper->columns[0].truth.split, "valid");  // auto: no test split in NB101
  EXPECT_EQ(paper->columns[0].truth.epochs, 108);
  EXPECT_EQ(paper->table.id, "paper_nb101");
  // 108 epochs: order 3,4,1,2 by accuracy, 1,2,3,4 by params: C = 2, D = 4 -> tau = -1/3.
  EXPECT_NEAR(paper->values[0][0].tau, -1.0 / 3, 1e-12);
  ReportOptions o;
  o.epochs = 36;
  EXPECT_DOUBLE_EQ(paper_table(data, "nb101", o)->values[0][0].tau, 1.0);
  o.epochs = 200;
  EXPECT_THROW(paper_table(data, "nb101", o), Error);
  o = ReportOptions{};
  o.split = "test";
  EXPECT_THROW(paper_table(data, "nb101", o), Error);
  // The nb101 standard sample is `--archs sample:1000` of an nb101 sweep: 1,000 of the cells
  // with ground truth (here only these 4, so all of them).
  EXPECT_EQ(arch_set(data, data.runs[0], ArchSet::StandardSample), archs);
}

TEST(ArchitectureSets, Nb101StandardSampleIsDrawnFromTheGroundTruthCells) {
  TestDb t;
  // 3,000 cells with truth at odd indices; the run swept the first 400 of them.
  std::vector<std::int64_t> truth_archs, swept;
  for (std::int64_t i = 1; i < 6000; i += 2) truth_archs.push_back(i);
  t.add_archs("nb101", truth_archs);
  t.add_truth("nb101", "cifar10", "valid", 108, truth_archs,
              std::vector<double>(truth_archs.size(), 90.0));
  const auto run = t.add_run("nb101", "cifar10", 0);
  swept.assign(truth_archs.begin(), truth_archs.begin() + 400);
  for (auto a : swept) t.score(run, "nb101", a, {{"params", static_cast<double>(a)}});
  t.finish();
  const auto data = load_report_data(t.db());
  ASSERT_EQ(data.spaces.at("nb101").truth_archs, truth_archs);
  Nb101Catalog catalog;
  catalog.space_size = 423624;
  catalog.truth_indices = truth_archs;
  const auto sample = select_nb101_architectures("sample:1000", catalog, 0);
  std::vector<std::int64_t> expected;
  for (auto a : swept) if (std::binary_search(sample.begin(), sample.end(), a)) expected.push_back(a);
  EXPECT_GT(expected.size(), 100u);  // ~400/3 of the swept cells are in a 1000-of-3000 sample
  EXPECT_EQ(arch_set(data, data.runs[0], ArchSet::StandardSample), expected);
}

TEST(ArchitectureSets, StandardSampleAndUniqueCells) {
  TestDb t;
  const auto sample = select_architectures("sample:1000", 15625, 0);
  // Three architectures in the standard sample, two outside it; 3 and 4 share a canonical key.
  std::vector<std::int64_t> in = {sample[0], sample[500], sample[999]}, out;
  for (std::int64_t i = 0; out.size() < 2; ++i)
    if (!std::binary_search(sample.begin(), sample.end(), i)) out.push_back(i);
  std::vector<std::int64_t> archs = in;
  archs.insert(archs.end(), out.begin(), out.end());
  std::sort(archs.begin(), archs.end());
  t.add_archs("nb201", archs, {{archs[3], "shared"}, {archs[4], "shared"}});
  const auto run = t.add_run("nb201", "cifar10", 0);
  for (auto a : archs) t.score(run, "nb201", a, {{"params", static_cast<double>(a)}});
  t.finish();
  const auto data = load_report_data(t.db());
  EXPECT_EQ(arch_set(data, data.runs[0], ArchSet::All), archs);
  std::sort(in.begin(), in.end());
  EXPECT_EQ(arch_set(data, data.runs[0], ArchSet::StandardSample), in);
  auto unique = archs;
  unique.erase(unique.begin() + 4);  // the higher index of the shared key goes
  EXPECT_EQ(arch_set(data, data.runs[0], ArchSet::UniqueCells), unique);
  EXPECT_THROW(parse_arch_set("some"), Error);
}

TEST(CorrelationsTable, SetsIntervalsPrecisionAndNdcg) {
  TestDb t;
  fill_nb201(t);
  const auto data = load_report_data(t.db());
  const auto table = correlations_table(data, data.runs[0], ReportOptions{});
  ASSERT_TRUE(table);
  std::vector<std::string> sections;
  for (const auto& r : table->rows)
    if (r.section) sections.push_back(r.label);
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections[0], "all swept architectures: 6 architectures");
  EXPECT_EQ(sections[2], "unique cells (one per canonical key, lowest index): 5 architectures");
  const auto& params = row_of(*table, "params");  // the first section's row
  EXPECT_EQ(params.cells[0].text, "6");
  EXPECT_EQ(params.cells[1].text, "1.000");
  EXPECT_EQ(params.cells[2].text, "[1.000, 1.000]");  // every resample is perfectly ordered
  EXPECT_EQ(params.cells[5].text, "1.000");           // P@1 %: k = 1
  const auto& snip = row_of(*table, "snip");
  EXPECT_EQ(snip.cells[5].text, "0.000");
  // nDCG@10 of the reversed order over gains 0, .2, .4, .6, .8, 1 (k capped at 6).
  double dcg = 0, ideal = 0;
  for (int p = 0; p < 6; ++p) {
    dcg += 0.2 * p / std::log2(p + 2.0);
    ideal += 0.2 * (5 - p) / std::log2(p + 2.0);
  }
  EXPECT_EQ(snip.cells[8].text, format_fixed(dcg / ideal, 3));
  const auto& naswot = row_of(*table, "naswot");
  const auto ci = stats::bootstrap_tau_rho({1, 2, 2, 3, 3, 3}, {90, 91, 92, 93, 94, 95}, 1000, 0);
  EXPECT_EQ(naswot.cells[2].text,
            "[" + format_fixed(ci.tau.lo, 3) + ", " + format_fixed(ci.tau.hi, 3) + "]");
  // The surrogate run's table says so.
  const auto c100 = correlations_table(data, data.runs[1], ReportOptions{});
  EXPECT_NE(c100->title.find("†"), std::string::npos);
}

TEST(SeedTables, MeanAndSpreadOverSeedsOnCommonArchitectures) {
  TestDb t;
  t.add_archs("nb201", kArchs);
  t.add_truth("nb201", "cifar10", "test", 200, kArchs, {90, 91, 92, 93, 94, 95});
  const auto s0 = t.add_run("nb201", "cifar10", 0);
  const auto s1 = t.add_run("nb201", "cifar10", 1);
  const auto gpu = t.add_run("nb201", "cifar10", 2, "cuda:0", "Test GPU");  // another group
  const double seed1[] = {0, 1, 2, 3, 5, 4};  // one swapped pair: tau = (14 - 1) / 15
  for (auto a : kArchs) {
    t.score(s0, "nb201", a, {{"params", static_cast<double>(a)}});
    std::optional<double> v = seed1[a];
    if (a == 0) v.reset();  // failed in seed 1: both seeds are compared on archs 1..5
    t.score(s1, "nb201", a, {{"params", v}});
    t.score(gpu, "nb201", a, {{"params", static_cast<double>(a)}});
  }
  t.finish();
  const auto data = load_report_data(t.db());
  const auto tables = seed_tables(data, "nb201", ReportOptions{});
  ASSERT_EQ(tables.size(), 1u);  // the GPU run has a single seed
  const auto& row = row_of(tables[0], "params");
  // On archs 1..5: seed 0 tau = 1; seed 1 has one discordant pair of 10: tau = 0.8.
  EXPECT_EQ(row.cells[0].text, "1.000");
  EXPECT_EQ(row.cells[1].text, "0.800");
  EXPECT_EQ(row.cells[2].text, "0.900");                            // mean
  EXPECT_EQ(row.cells[3].text, format_fixed(std::sqrt(0.02), 3));   // sd of {1, 0.8}
  EXPECT_EQ(row.cells[6].text, "5");                                // common architectures
  // Seed stability: Spearman of the two seeds' scores on archs 1..5, ranks 1 2 3 4 5 and
  // 1 2 3 5 4: 1 - 6 * 2 / (5 * 24) = 0.9, not below the 0.9 of "seed-sensitive".
  EXPECT_EQ(tables[0].columns[7], "seed stability");
  EXPECT_EQ(row.cells[7].text, "0.900");
  EXPECT_EQ(row.cells[8].text, "");
  EXPECT_EQ(tables[0].columns[0], "KT seed 0");
}

TEST(SeedTables, StabilityIsTheSpearmanBetweenSeedsAndSaysWhenRankingsBarelySurvive) {
  TestDb t;
  t.add_archs("nb201", kArchs);
  t.add_truth("nb201", "cifar10", "test", 200, kArchs, {90, 91, 92, 93, 94, 95});
  const auto s0 = t.add_run("nb201", "cifar10", 0);
  const auto s1 = t.add_run("nb201", "cifar10", 1);
  const auto s2 = t.add_run("nb201", "cifar10", 2);
  const double seed1_snip[] = {5, 4, 3, 2, 1, 0};  // the ranking reversed: rho = -1
  const double seed2_snip[] = {0, 1, 2, 3, 4, 5};
  for (auto a : kArchs) {
    const double i = static_cast<double>(a);
    t.score(s0, "nb201", a, {{"params", i}, {"snip", -i}});  // snip's sign is +1: rank = value
    t.score(s1, "nb201", a, {{"params", i}, {"snip", -seed1_snip[a]}});
    t.score(s2, "nb201", a, {{"params", i}, {"snip", -seed2_snip[a]}});
  }
  t.finish();
  const auto data = load_report_data(t.db());
  const auto tables = seed_tables(data, "nb201", ReportOptions{});
  ASSERT_EQ(tables.size(), 1u);
  // Three seeds: pairs (0, 1) and (1, 2) are reversed (-1), (0, 2) identical (+1): mean -1/3.
  const auto& snip = row_of(tables[0], "snip");
  EXPECT_EQ(snip.cells[8].text, format_fixed(-1.0 / 3.0, 3));
  EXPECT_EQ(snip.cells[9].text, "barely survives a new seed");
  const auto& params = row_of(tables[0], "params");
  EXPECT_EQ(params.cells[8].text, "1.000");
  EXPECT_EQ(params.cells[9].text, "");
  EXPECT_EQ(stability_note(0.49), "barely survives a new seed");
  EXPECT_EQ(stability_note(0.5), "seed-sensitive");
  EXPECT_EQ(stability_note(0.89), "seed-sensitive");
  EXPECT_EQ(stability_note(0.9), "");
  EXPECT_EQ(stability_note(std::nan("")), "");
}

TEST(SeedTables, RunsOfOneSeedAreNotComparedAndRunsWithoutTheProxyAreLeftOut) {
  TestDb t;
  t.add_archs("nb201", kArchs);
  t.add_truth("nb201", "cifar10", "test", 200, kArchs, {90, 91, 92, 93, 94, 95});
  // Two seeds scored params; later two more runs of the same two seeds (another selection,
  // so other runs of the group) scored params again and ntk_cond, which the first two lack.
  const auto s0 = t.add_run("nb201", "cifar10", 0);
  const auto s1 = t.add_run("nb201", "cifar10", 1);
  const auto s0b = t.add_run("nb201", "cifar10", 0, "cpu", "Test CPU", "cifar10 training images", "b");
  const auto s1b = t.add_run("nb201", "cifar10", 1, "cpu", "Test CPU", "cifar10 training images", "b");
  const double ntk1[] = {0, 1, 2, 3, 5, 4};
  for (auto a : kArchs) {
    const double i = static_cast<double>(a);
    t.score(s0, "nb201", a, {{"params", i}});
    t.score(s1, "nb201", a, {{"params", i}});
    t.score(s0b, "nb201", a, {{"params", 5 - i}, {"ntk_cond", -i}});  // ntk_cond's sign is -1
    t.score(s1b, "nb201", a, {{"params", 5 - i}, {"ntk_cond", -ntk1[a]}});
  }
  t.finish();
  const auto data = load_report_data(t.db());
  const auto tables = seed_tables(data, "nb201", ReportOptions{});
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_EQ(tables[0].columns[9], "seed stability");
  // params: pairs of different seeds (s0, s1) +1, (s0, s1b) -1, (s1, s0b) -1, (s0b, s1b) +1;
  // the same-seed pairs (s0, s0b) and (s1, s1b), both reversed, are not pairs: mean 0, not -1/3.
  EXPECT_EQ(row_of(tables[0], "params").cells[9].text, "0.000");
  EXPECT_EQ(row_of(tables[0], "params").cells[8].text, "6");
  // ntk_cond: only s0b and s1b scored it; n counts their common cells, not the empty
  // intersection with the runs that lack it, and their KT columns stay empty.
  const auto& ntk = row_of(tables[0], "ntk_cond");
  EXPECT_EQ(ntk.cells[8].text, "6");
  EXPECT_EQ(ntk.cells[9].text, format_fixed(1 - 6.0 * 2 / (6 * 35), 3));
  EXPECT_EQ(ntk.cells[2].text, "1.000");  // s0b: the ranking of the truth
  EXPECT_EQ(ntk.cells[0].text, "–");
  EXPECT_EQ(ntk.cells[3].text, "0.867");  // s1b: one swapped pair of 15
}

TEST(TimingTables, MedianP90PerDeviceAndCrossDeviceRatio) {
  TestDb t;
  fill_nb201(t);
  // A GPU run of the same architectures, every proxy twice as fast.
  const auto gpu = t.add_run("nb201", "cifar10", 0, "cuda:0", "NVIDIA H100");
  for (auto a : kArchs) {
    const double i = static_cast<double>(a);
    t.score(gpu, "nb201", a, {{"params", i}, {"snip", -i}}, 0.0005 * (i + 1));
  }
  t.finish();
  const auto data = load_report_data(t.db());
  const auto groups = timing_groups(data, "nb201");
  ASSERT_EQ(groups.size(), 2u);  // the two CPU runs pool; the GPU run is its own group
  EXPECT_EQ(groups[0].runs.size(), 2u);
  EXPECT_EQ(groups[0].label(), "cpu (Test CPU), 2 threads, OpenBLAS 0.3.21 openmp");
  // params on the cifar10 CPU run: 1..6 ms; the cifar100 run scored it with 1 ms each.
  const auto params = data.proxies[0].proxy_id;
  const auto cpu = timing_stats(groups[0], params);
  EXPECT_EQ(cpu.n, 12);
  // sorted: 1,1,1,1,1,1,1,2,3,4,5,6 ms -> median of the 6th and 7th = 1 ms; p90: h = 0.9 * 11 =
  // 9.9 -> 4 + 0.9 * (5 - 4) = 4.9 ms
  EXPECT_DOUBLE_EQ(cpu.median, 0.001);
  EXPECT_NEAR(cpu.p90, 0.0049, 1e-15);
  const auto g = timing_stats(groups[1], params);
  EXPECT_DOUBLE_EQ(g.median, 0.00175);  // 0.5..3 ms: median 1.75 ms
  EXPECT_NEAR(g.p90, 0.00275, 1e-15);   // h = 4.5 -> 2.75 ms

  const auto table = timing_table(data, "nb201");
  EXPECT_EQ(row_of(table, "params").cells[0].text, "1.00");  // ms
  EXPECT_EQ(row_of(table, "params").cells[1].text, "4.90");
  EXPECT_EQ(row_of(table, "params").cells[2].text, "12");
  EXPECT_EQ(row_of(table, "params").cells[3].text, "1.75");
  EXPECT_EQ(table.groups[1].label, "B: cuda:0 (NVIDIA H100), 2 thr");
  EXPECT_NE(table.notes[1].find("B: cuda:0 (NVIDIA H100), 2 threads, OpenBLAS 0.3.21 openmp"),
            std::string::npos);
  // The whole sweep per architecture: the cifar10 CPU run spends 7 proxies x (i+1) ms.
  const auto& all = row_of(table, "all proxies");
  EXPECT_EQ(all.cells[2].text, "12");

  const auto ratio = timing_ratio_table(data, "nb201");
  ASSERT_TRUE(ratio);
  // params: CPU median 1 ms / GPU median 1.75 ms.
  EXPECT_EQ(row_of(*ratio, "params").cells[0].text, "1.00");
  EXPECT_EQ(row_of(*ratio, "params").cells[2].text, format_fixed(1.0 / 1.75, 2));
  // One device only: no ratio table.
  TestDb single;
  fill_nb201(single);
  EXPECT_FALSE(timing_ratio_table(load_report_data(single.db()), "nb201"));
}

TEST(Figures, SvgPanelsAndRealPngs) {
  TestDb t;
  fill_nb201(t);
  const auto data = load_report_data(t.db());
  const auto svg = scatter_plot_svg(data, data.runs[0], ReportOptions{});
  ASSERT_TRUE(svg);
  EXPECT_EQ(svg->rfind("<?xml", 0), 0u);
  EXPECT_NE(svg->find("</svg>"), std::string::npos);
  EXPECT_NE(svg->find("params   τ = 1.000   (n = 6)"), std::string::npos);
  EXPECT_NE(svg->find("naswot   τ = 0.856   (n = 6)"), std::string::npos);
  EXPECT_NE(svg->find("agg   τ = 1.000   (n = 5)"), std::string::npos);
  EXPECT_EQ(svg->find("synflow_log"), std::string::npos);
  // One dot per ok (score, truth) pair: 5 proxies x 6 + agg's 5.
  EXPECT_EQ(count(*svg, "<circle"), 5u * 6 + 5);
  const auto paper = paper_table(data, "nb201", ReportOptions{});
  const auto bars = tau_bar_chart_svg(*paper);
  EXPECT_NE(bars.find("CIFAR-100†"), std::string::npos);
  const auto timing = timing_chart_svg(data, "nb201");
  ASSERT_TRUE(timing);
  EXPECT_NE(timing->find("milliseconds per architecture"), std::string::npos);

  if (find_rsvg_convert().empty()) GTEST_SKIP() << "rsvg-convert (librsvg2-bin) not installed";
  const auto bundle = build_report(data, ReportOptions{}, {"paper"}, true);
  const auto written = write_bundle(bundle, t.dir() + "/out");
  EXPECT_TRUE(written.warnings.empty());
  for (const char* stem : {"tau_nb201", "scatter_run1", "scatter_run2", "timing_nb201"}) {
    const auto png = read_file(t.dir() + "/out/" + stem + ".png");
    const auto size = png_size(png);
    ASSERT_TRUE(size) << stem;
    // rsvg-convert at zoom 2: twice the SVG's width.
    const auto svg_text = read_file(t.dir() + "/out/" + stem + ".svg");
    const auto w = svg_text.find("width=\"");
    const double svg_width = std::stod(svg_text.substr(w + 7));
    EXPECT_EQ(size->first, static_cast<unsigned>(std::lround(2 * svg_width))) << stem;
    EXPECT_GT(png.size(), 5000u) << stem;  // text, axes and dots, not an empty canvas
  }
  for (const char* ext : {".tex", ".md", ".csv"})
    EXPECT_EQ(access((t.dir() + "/out/paper_nb201" + ext).c_str(), R_OK), 0) << ext;
  EXPECT_NE(access((t.dir() + "/out/timing_nb201.md").c_str(), F_OK), 0);  // not asked for
}

TEST(CorrelationText, ColumnsStayAlignedWithLongProxyNames) {
  RunReport r;
  r.header = "run 1: nb201";
  r.space = "nb201";
  r.truth = {{"cifar10", "test", 200}, {"cifar100", "valid", 200}};
  for (const std::string name : {"snip", "gradalign_gram_b1", "ntk_lambda_min"}) {
    ProxyRow p;
    p.proxy = name;
    p.ok = 51;
    p.by_truth = {{51, -0.383, -0.553}, {51, 0.5, 0.7}};
    p.median_seconds = 12.5;
    r.proxies.push_back(p);
  }
  r.short_training.push_back({12, {{51, 0.778, 0.925}, {51, 0.682, 0.869}}});
  std::ostringstream text;
  print_correlation_report({r}, text);
  // Every row of a table starts its columns where its header does.
  std::istringstream lines(text.str());
  std::string line;
  std::size_t n_at = std::string::npos, test_at = std::string::npos, total_at = std::string::npos;
  int correlation_rows = 0, timing_rows = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("  proxy ", 0) == 0) {
      if (line.find("cifar10_test") != std::string::npos) {
        n_at = line.find(" n ") + 1;
        test_at = line.find("cifar10_test");
      } else {
        total_at = line.find("total");
      }
      continue;
    }
    for (const char* name : {"snip ", "gradalign_gram_b1 ", "ntk_lambda_min ", "12ep-acc* "}) {
      if (line.rfind(std::string("  ") + name, 0) != 0) continue;
      if (line.find(" / ") != std::string::npos) {
        ++correlation_rows;
        EXPECT_EQ(line.find("51"), n_at) << line << "\n" << text.str();
        EXPECT_EQ(line.find(name == std::string("12ep-acc* ") ? "0.778" : "-0.383"), test_at)
            << line << "\n" << text.str();
      } else {
        ++timing_rows;
        EXPECT_EQ(line.find("12.50000"), total_at) << line << "\n" << text.str();
      }
    }
  }
  EXPECT_EQ(correlation_rows, 4) << text.str();  // three proxies and the 12-epoch baseline
  EXPECT_EQ(timing_rows, 3) << text.str();
}

TEST(ReportBundle, EmptyDatabaseAndProvenance) {
  TestDb t;
  auto data = load_report_data(t.db());
  auto empty = build_report(data, ReportOptions{}, {}, true);
  ASSERT_EQ(empty.remarks.size(), 1u);
  EXPECT_EQ(empty.remarks[0], "The database holds no runs.");
  EXPECT_NE(html_page(data, empty, ReportOptions{}).find("no runs"), std::string::npos);

  fill_nb201(t);
  data = load_report_data(t.db());
  const auto bundle = build_report(data, ReportOptions{}, {}, true);
  std::vector<std::string> ids;
  for (const auto& e : bundle.tables) ids.push_back(e.table.id);
  const std::vector<std::string> expected = {"paper_nb201",       "proxy_corr_nb201",
                                             "correlations_run1", "correlations_run2",
                                             "timing_nb201",      "runs",
                                             "sessions"};
  EXPECT_EQ(ids, expected);
  const auto& runs = bundle.tables[5].table;
  ASSERT_EQ(runs.rows.size(), 2u);
  EXPECT_NE(runs.rows[1].cells[2].text.find("SURROGATE: "), std::string::npos);
  EXPECT_EQ(bundle.tables[6].table.rows.size(), 2u);
  EXPECT_EQ(bundle.tables[6].table.rows[0].cells[1].text, "completed");
  // Proxy-vs-proxy: params against snip is -1, against itself 1.
  const auto& corr = bundle.tables[1].table;
  EXPECT_EQ(row_of(corr, "params").cells[0].text, "1.00");
  EXPECT_EQ(row_of(corr, "params").cells[1].text, "-1.00");
}

TEST(CorrelationText, ARunResumedOnAnotherMachineListsItsMachines) {
  TestDb t;
  fill_nb201(t);
  const std::string zen = "libopenblas (OpenBLAS 0.3.21 DYNAMIC_ARCH Zen MAX_THREADS=64)";
  const std::string cooperlake = "libopenblas (OpenBLAS 0.3.21 DYNAMIC_ARCH Cooperlake MAX_THREADS=64)";
  for (const auto& blas : {zen, cooperlake, cooperlake})
    t.db().end_session(t.db().begin_session(1, "sweep", "h", "v", {"EPYC", "EPYC", blas}),
                       "completed");
  // Sessions without a machine (the fixture's own, aggregate) are not a machine.
  t.db().begin_session(2, "aggregate", "h", "v");
  t.db().end_session(t.db().begin_session(2, "sweep", "h", "v", {"EPYC", "EPYC", zen}),
                     "completed");
  const auto reports = correlation_report(load_report_data(t.db()));
  ASSERT_EQ(reports.size(), 2u);
  const std::string& spanning = reports[0].header;
  EXPECT_NE(spanning.find("computed on 2 machines"), std::string::npos) << spanning;
  EXPECT_NE(spanning.find("sessions 4,5 (0 architectures): EPYC, BLAS " + cooperlake),
            std::string::npos)
      << spanning;
  EXPECT_NE(spanning.find("sessions 3 (0 architectures): EPYC, BLAS " + zen), std::string::npos)
      << spanning;
  EXPECT_EQ(reports[1].header.find("machines"), std::string::npos) << reports[1].header;
}

// Runs a shell command with a time limit, returning its exit status and stdout.
int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen(("timeout 120 " + command + " 2>/dev/null").c_str(), "r");
  if (!pipe) return -1;
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output->append(buf, n);
  return pclose(pipe);
}

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::string path;
    if (run_command(std::string("sh -c 'command -v ") + name + "'", &path) == 0 && !path.empty())
      return path.substr(0, path.find('\n'));
  }
  return "";
}

TEST(HtmlReport, RendersOfflineInHeadlessChromiumWithTablesAndImages) {
  TestDb t;
  fill_nb201(t);
  const auto data = load_report_data(t.db());
  const auto bundle = build_report(data, ReportOptions{}, {}, true);
  const auto page_path = write_html(data, bundle, ReportOptions{}, t.dir() + "/html");
  const auto page = read_file(page_path);
  // Self-contained: no external reference of any kind.
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.find("href=\"http"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(count(page, "<img "), bundle.figures.size());
  EXPECT_EQ(count(page, "<table "), bundle.tables.size());

  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (Debian package chromium)";
  const std::string flags = " --headless --disable-gpu --no-sandbox --hide-scrollbars "
                            "--user-data-dir=" + t.dir() + "/profile ";
  std::string dom;
  ASSERT_EQ(run_command(chromium + flags + "--virtual-time-budget=5000 --dump-dom file://" +
                            page_path, &dom), 0);
  // The DOM after load: every table, and every figure decoded by the browser (the page's script
  // marks each image with its decode result).
  EXPECT_EQ(count(dom, "<table class=\"report\""), bundle.tables.size()) << dom.substr(0, 2000);
  EXPECT_EQ(count(dom, "data-rendered=\"yes\""), bundle.figures.size());
  EXPECT_EQ(count(dom, "data-rendered=\"no\""), 0u);
  EXPECT_NE(dom.find("id=\"paper_nb201\""), std::string::npos);
  EXPECT_NE(dom.find("CIFAR-100†"), std::string::npos);
  EXPECT_NE(dom.find("<td class=\"best\"><b>1.000</b></td>"), std::string::npos);
  EXPECT_NE(dom.find("nasbench sweep --test"), std::string::npos);  // provenance

  const std::string shot = t.dir() + "/screenshot.png";
  std::string ignored;
  run_command(chromium + flags + "--screenshot=" + shot + " --window-size=1280,2400 file://" +
                  page_path, &ignored);
  const auto png = read_file(shot);
  const auto size = png_size(png);
  ASSERT_TRUE(size) << "no screenshot at " << shot;
  EXPECT_EQ(size->first, 1280u);
  EXPECT_EQ(size->second, 2400u);
  EXPECT_GT(png.size(), 60000u);  // a page of text, tables and charts, not a blank canvas
  if (const char* keep = std::getenv("NBZ_KEEP_SCREENSHOT"))
    std::ofstream(keep, std::ios::binary) << png;
}

}  // namespace
}  // namespace nbz::report
