#include "suite/cli_args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "foundation/csv.h"
#include "foundation/errors.h"

namespace nbz {

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

ArgParser& ArgParser::option(const std::string& name, const std::string& help,
                             const std::string& default_value, bool required) {
  specs_[name] = {help, default_value, false, required};
  order_.push_back(name);
  return *this;
}

ArgParser& ArgParser::flag(const std::string& name, const std::string& help) {
  specs_[name] = {help, "", true, false};
  order_.push_back(name);
  return *this;
}

bool ArgParser::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") return false;
    if (arg.rfind("--", 0) != 0)
      throw Error("nasbench " + command_ + ": unexpected argument '" + arg + "'");
    std::string name = arg.substr(2), value;
    bool has_value = false;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto it = specs_.find(name);
    if (it == specs_.end())
      throw Error("nasbench " + command_ + ": unknown option '--" + name + "' (see --help)");
    if (it->second.is_flag) {
      if (has_value) throw Error("nasbench " + command_ + ": --" + name + " takes no value");
      values_[name] = "1";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size())
        throw Error("nasbench " + command_ + ": --" + name + " needs a value");
      value = args[++i];
    }
    values_[name] = value;
  }
  for (const auto& [name, spec] : specs_)
    if (spec.required && !values_.count(name))
      throw Error("nasbench " + command_ + ": --" + name + " is required");
  return true;
}

std::string ArgParser::str(const std::string& name) const {
  auto v = values_.find(name);
  if (v != values_.end()) return v->second;
  auto s = specs_.find(name);
  return s == specs_.end() ? "" : s->second.default_value;
}

std::int64_t ArgParser::integer(const std::string& name) const {
  const std::string text = str(name);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE)
    throw Error("nasbench " + command_ + ": --" + name + " '" + text + "' is not an integer");
  return v;
}

double ArgParser::real(const std::string& name) const {
  const std::string text = str(name);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v))
    throw Error("nasbench " + command_ + ": --" + name + " '" + text + "' is not a number");
  return v;
}

std::vector<std::string> ArgParser::list(const std::string& name, char separator) const {
  const std::string text = str(name);
  auto items = split_fields(text, separator);
  for (const auto& item : items)
    if (item.empty())
      throw Error("nasbench " + command_ + ": --" + name + " '" + text + "' has an empty item");
  return items;
}

bool ArgParser::is_set(const std::string& name) const { return values_.count(name) != 0; }

std::string ArgParser::help() const {
  std::ostringstream out;
  out << "usage: nasbench " << command_ << " [options]\n" << summary_ << "\n\noptions:\n";
  for (const auto& name : order_) {
    const auto& spec = specs_.at(name);
    std::string left = "  --" + name + (spec.is_flag ? "" : " VALUE");
    out << left << std::string(left.size() < 26 ? 26 - left.size() : 1, ' ') << spec.help;
    if (spec.required) out << " (required)";
    else if (!spec.default_value.empty()) out << " (default: " << spec.default_value << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace nbz
