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

}  // namespace
}  // namespace nbz
