// Command-line options of one subcommand: declared with help and defaults, parsed with errors
// that name the flag and the value. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nbz {

class ArgParser {
 public:
  ArgParser(std::string command, std::string summary);

  // --name VALUE (or --name=VALUE). An empty default with required=true must be given.
  ArgParser& option(const std::string& name, const std::string& help,
                    const std::string& default_value = "", bool required = false);
  // --name, no value.
  ArgParser& flag(const std::string& name, const std::string& help);

  // Parses args (without the program and subcommand). Throws nbz::Error for unknown flags,
  // missing values and missing required options. Returns false when --help was asked for.
  bool parse(const std::vector<std::string>& args);

  std::string str(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;  // errors name the flag and value
  double real(const std::string& name) const;            // finite; errors name flag and value
  // The value split at `separator` ("" = no items); an empty item is an error naming the flag.
  std::vector<std::string> list(const std::string& name, char separator = ',') const;
  bool is_set(const std::string& name) const;            // flags, and options given explicitly
  std::string help() const;

 private:
  struct Spec {
    std::string help, default_value;
    bool is_flag = false, required = false;
  };
  std::string command_, summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
};

}  // namespace nbz
