#include "suite/cli_args.h"

#include <gtest/gtest.h>

#include "foundation/errors.h"

namespace nbz {
namespace {

ArgParser parser() {
  ArgParser p("sweep", "test");
  p.option("db", "database", "", true).option("seed", "seed", "0").flag("quiet", "q");
  return p;
}

TEST(ArgParser, ValuesDefaultsAndFlags) {
  auto p = parser();
  ASSERT_TRUE(p.parse({"--db", "x.sqlite", "--seed=7", "--quiet"}));
  EXPECT_EQ(p.str("db"), "x.sqlite");
  EXPECT_EQ(p.integer("seed"), 7);
  EXPECT_TRUE(p.is_set("quiet"));
  auto q = parser();
  ASSERT_TRUE(q.parse({"--db", "y"}));
  EXPECT_EQ(q.integer("seed"), 0);
  EXPECT_FALSE(q.is_set("quiet"));
  EXPECT_FALSE(parser().parse({"--help"}));
}

void expect_error(const std::vector<std::string>& args, const std::string& fragment) {
  auto p = parser();
  try {
    p.parse(args);
    p.integer("seed");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ArgParser, ErrorsNameTheFlagAndValue) {
  expect_error({"--db", "x", "--sed", "3"}, "unknown option '--sed'");
  expect_error({"--seed", "1"}, "--db is required");
  expect_error({"--db"}, "--db needs a value");
  expect_error({"--db", "x", "--seed", "abc"}, "--seed 'abc' is not an integer");
  expect_error({"--db", "x", "stray"}, "unexpected argument 'stray'");
  expect_error({"--db", "x", "--quiet=1"}, "--quiet takes no value");
}

TEST(ArgParser, ListsAndRealNumbers) {
  ArgParser p("aggregate", "test");
  p.option("names", "list").option("rules", "list", "a=b;c=d").option("gain", "real", "0.005")
      .option("empty", "list");
  ASSERT_TRUE(p.parse({"--names", "snip,synflow,naswot"}));
  EXPECT_EQ(p.list("names"), (std::vector<std::string>{"snip", "synflow", "naswot"}));
  EXPECT_EQ(p.list("rules", ';'), (std::vector<std::string>{"a=b", "c=d"}));
  EXPECT_TRUE(p.list("empty").empty());
  EXPECT_DOUBLE_EQ(p.real("gain"), 0.005);
  for (const std::vector<std::string> args :
       {std::vector<std::string>{"--names", "a,,b"}, {"--names", "a,"}, {"--names", ","}}) {
    ArgParser q("aggregate", "test");
    q.option("names", "list");
    ASSERT_TRUE(q.parse(args));
    EXPECT_THROW(q.list("names"), Error) << args[1];
  }
  for (const char* bad : {"", "x", "1e999", "nan", "0.1x"}) {
    ArgParser q("aggregate", "test");
    q.option("gain", "real");
    ASSERT_TRUE(q.parse({"--gain", bad}));
    try {
      q.real("gain");
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--gain '" + std::string(bad) + "' is not a number"),
                std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace nbz
