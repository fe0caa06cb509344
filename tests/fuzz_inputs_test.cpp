// Seeded property tests ("fuzzing" without a fuzzer runtime): thousands of random mutations of
// every text input the suite parses. Each must either parse into something valid or throw
// nbz::Error -- never crash, never another exception, never a half-valid object.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "foundation/errors.h"
#include "proxies/catalog.h"
#include "spaces/arch_selection.h"
#include "spaces/nb101_space.h"
#include "spaces/nb201_space.h"
#include "tests/test_support.h"

namespace nbz {
namespace {

const std::string kAlphabet = "|~+,-:0123456789_abcdefghijklmnopqrstuvwxyz \t\"\\";

std::string mutate(std::string s, std::mt19937& gen) {
  std::uniform_int_distribution<int> times(1, 3), kind(0, 3);
  std::uniform_int_distribution<size_t> ch(0, kAlphabet.size() - 1);
  for (int t = times(gen); t > 0; --t) {
    const size_t pos = s.empty() ? 0 : std::uniform_int_distribution<size_t>(0, s.size() - 1)(gen);
    switch (kind(gen)) {
      case 0: s.insert(s.begin() + static_cast<long>(pos), kAlphabet[ch(gen)]); break;
      case 1: if (!s.empty()) s.erase(pos, 1); break;
      case 2: if (!s.empty()) s[pos] = kAlphabet[ch(gen)]; break;
      case 3: if (!s.empty()) s = s.substr(0, pos) + s.substr(pos, 4) + s.substr(pos); break;
    }
  }
  return s;
}

TEST(FuzzInputs, Nb201ArchStrings) {
  std::mt19937 gen(1);
  int accepted = 0, rejected = 0;
  std::uniform_int_distribution<int> op(0, nb201::kNumOps - 1);
  for (int trial = 0; trial < 20000; ++trial) {
    nb201::Cell c;
    for (auto& e : c.edges) e = static_cast<nb201::Op>(op(gen));
    const std::string text = mutate(c.str(), gen);
    try {
      const auto parsed = nb201::Cell::parse(text);
      ASSERT_EQ(nb201::Cell::parse(parsed.str()), parsed) << text;
      ++accepted;
    } catch (const Error&) {
      ++rejected;
    }
  }
  RecordProperty("arch_strings_rejected", rejected);
  EXPECT_GT(rejected, 15000);
  std::cout << "nb201 arch strings: " << accepted << " mutations still valid, " << rejected
            << " rejected with nbz::Error\n";
}

TEST(FuzzInputs, ArchSpecsAndProxyLists) {
  std::mt19937 gen(2);
  const std::vector<std::string> seeds = {"all", "0-99", "3,17,200-210", "sample:1000", "sample:5:3"};
  const std::vector<std::string> lists = {"all", "zc", "params,flops", "ntk,naswot", "snip"};
  int rejected = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const std::string spec = mutate(seeds[static_cast<size_t>(trial) % seeds.size()], gen);
    try {
      for (auto i : select_architectures(spec, 15625, 0)) ASSERT_TRUE(i >= 0 && i < 15625) << spec;
    } catch (const Error&) {
      ++rejected;
    }
    const std::string list = mutate(lists[static_cast<size_t>(trial) % lists.size()], gen);
    try {
      for (const auto* p : resolve_proxy_list(list)) ASSERT_NE(p, nullptr);
    } catch (const Error&) {
      ++rejected;
    }
  }
  RecordProperty("specs_and_lists_rejected", rejected);
  EXPECT_GT(rejected, 10000);
}

TEST(FuzzInputs, Nb101Specs) {
  std::mt19937 gen(3);
  const auto rows = nb101::load_ground_truth(test::data_dir() + "/nasbench101/nb101_ground_truth_20k.csv");
  int rejected = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    const auto& cell = rows[static_cast<size_t>(trial) % rows.size()].cell;
    std::string adjacency = nb101::format_adjacency(cell), ops = nb101::format_operations(cell);
    (trial % 2 ? adjacency : ops) = mutate(trial % 2 ? adjacency : ops, gen);
    try {
      const auto parsed = nb101::parse_cell(adjacency, ops);
      nb101::check_structure(parsed);
    } catch (const Error&) {
      ++rejected;
    }
  }
  RecordProperty("nb101_specs_rejected", rejected);
  EXPECT_GT(rejected, 2500);
}

TEST(FuzzInputs, Nb201GroundTruthCsvRows) {
  // One corrupted line of the real file at a time: the loader must name the problem or (for a
  // harmless change such as another valid number) load; it must never load an invalid space.
  std::ifstream in(test::data_dir() + "/nasbench201/nb201_ground_truth.csv");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 15626u);
  char tmpl[] = "/tmp/nbz_fuzz_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::system(("mkdir -p " + dir + "/nasbench201").c_str());
  std::mt19937 gen(4);
  int rejected = 0, trials = 120;
  for (int trial = 0; trial < trials; ++trial) {
    const size_t victim = std::uniform_int_distribution<size_t>(0, lines.size() - 1)(gen);
    {
      std::ofstream out(dir + "/nasbench201/nb201_ground_truth.csv");
      for (size_t i = 0; i < lines.size(); ++i) out << (i == victim ? mutate(lines[i], gen) : lines[i]) << "\n";
    }
    try {
      const auto s = nb201::Space::load(dir);
      ASSERT_EQ(s.size(), 15625);
    } catch (const Error& e) {
      ++rejected;
      const std::string what = e.what();
      // Errors about one row name the file and the line.
      if (what.find("nb201_ground_truth.csv:") != std::string::npos)
        EXPECT_NE(what.find(":" + std::to_string(victim + 1)), std::string::npos) << what;
    }
  }
  RecordProperty("csv_rows_rejected", rejected);
  EXPECT_GT(rejected, trials / 2);
}

}  // namespace
}  // namespace nbz
