#include "benchmarks_db/bench_import.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "foundation/errors.h"
#include "foundation/run_context.h"
#include "foundation/version_info.h"
#include "spaces/nb201_space.h"

namespace nbz::db {
namespace {

// --- A small JSON reader: Google Benchmark's output is the only input, but it is read strictly
// (errors name the file and the byte offset) rather than by pattern matching.
struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* find(const std::string& key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
  std::string string_or(const std::string& key, const std::string& fallback) const {
    const Json* v = find(key);
    return v && v->kind == Kind::String ? v->text : fallback;
  }
  double number_or(const std::string& key, double fallback) const {
    const Json* v = find(key);
    return v && v->kind == Kind::Number ? v->number : fallback;
  }
  bool bool_or(const std::string& key, bool fallback) const {
    const Json* v = find(key);
    return v && v->kind == Kind::Bool ? v->boolean : fallback;
  }
};

class JsonReader {
 public:
  JsonReader(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Json document() {
    Json v = value();
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("'" + path_ + "' is not valid JSON at byte " + std::to_string(pos_) + ": " + what);
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool take(const char* word) {
    const size_t n = std::char_traits<char>::length(word);
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }
  Json value() {
    skip_space();
    if (pos_ >= s_.size()) fail("unexpected end of file");
    Json v;
    const char c = s_[pos_];
    if (c == '{') {
      v.kind = Json::Kind::Object;
      ++pos_;
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return v;
      }
      for (;;) {
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a member name");
        std::string key = string();
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != ':') fail("expected ':'");
        ++pos_;
        v.members.emplace_back(std::move(key), value());
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Json::Kind::Array;
      ++pos_;
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return v;
      }
      for (;;) {
        v.items.push_back(value());
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == ']') {
          ++pos_;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Json::Kind::String;
      v.text = string();
      return v;
    }
    if (take("true") || take("false")) {
      v.kind = Json::Kind::Bool;
      v.boolean = s_[pos_ - 4] == 't';  // "true" ends 4 bytes back; "false" has 'a' there
      return v;
    }
    if (take("null")) return v;
    // Google Benchmark writes non-finite counters as NaN / Infinity.
    v.kind = Json::Kind::Number;
    if (take("NaN") || take("-NaN")) {
      v.number = std::numeric_limits<double>::quiet_NaN();
      return v;
    }
    if (take("Infinity")) {
      v.number = std::numeric_limits<double>::infinity();
      return v;
    }
    if (take("-Infinity")) {
      v.number = -std::numeric_limits<double>::infinity();
      return v;
    }
    const char* begin = s_.c_str() + pos_;
    char* end = nullptr;
    v.number = std::strtod(begin, &end);
    if (end == begin) fail("expected a value");
    pos_ += static_cast<size_t>(end - begin);
    return v;
  }
  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }
  unsigned hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad \\u escape");
    }
    return code;
  }
  std::string string() {
    ++pos_;  // opening quote
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) break;
      c = s_[pos_++];
      switch (c) {
        case '"': case '\\': case '/': out += c; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = hex4();
          if (code >= 0xD800 && code < 0xDC00 && take("\\u")) {
            const unsigned low = hex4();
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, code);
          break;
        }
        default: fail(std::string("bad escape \\") + c);
      }
    }
    if (pos_ >= s_.size()) fail("unterminated string");
    ++pos_;  // closing quote
    return out;
  }

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

double unit_seconds(const std::string& unit, const std::string& path) {
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1;
  throw Error("'" + path + "': unknown time_unit '" + unit + "'");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One benchmark of the file with its repetitions folded into one number.
struct Measurement {
  std::vector<double> repetitions;  // seconds per call of each repetition
  std::optional<double> median_aggregate;
  std::string label, error;
  std::map<std::string, double> counters;
  double seconds() const {
    if (median_aggregate) return *median_aggregate;
    return repetitions.empty() ? 0 : median(repetitions);
  }
};

struct ArchInfo {
  std::string space, arch;
  std::int64_t index = 0, params = 0;
};

std::string fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read benchmark JSON '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string pass_set_name(const std::set<Pass>& passes) {
  std::string name;
  for (Pass p : passes) name += (name.empty() ? "" : "+") + std::string(pass_name(p));
  return name;
}

BenchImportSummary import_benchmark_json(ResultsDb& db, const std::string& json_path,
                                         const std::string& command_line) {
  const Json doc = JsonReader(read_file(json_path), json_path).document();
  const Json* context = doc.find("context");
  const Json* benchmarks = doc.find("benchmarks");
  if (!context || context->kind != Json::Kind::Object || !benchmarks ||
      benchmarks->kind != Json::Kind::Array)
    throw Error("'" + json_path + "' is not Google Benchmark JSON output (no context/benchmarks)");
  auto need = [&](const std::string& key) {
    const Json* v = context->find(key);
    if (!v || v->kind != Json::Kind::String)
      throw Error("'" + json_path + "' has no context value '" + key +
                  "': it does not come from build/nasbench_bench");
    return v->text;
  };
  const std::string code = need("nbz_code_version");

  // Architectures from the context: "nbz_arch LABEL" -> "SPACE INDEX ARCH params=N".
  std::map<std::string, ArchInfo> archs;
  for (const auto& [key, v] : context->members) {
    if (key.rfind("nbz_arch ", 0) != 0 || v.kind != Json::Kind::String) continue;
    std::istringstream fields(v.text);
    ArchInfo a;
    std::string params;
    if (!(fields >> a.space >> a.index >> a.arch >> params) || params.rfind("params=", 0) != 0)
      throw Error("'" + json_path + "': context '" + key + "' is '" + v.text +
                  "', expected 'SPACE INDEX ARCH params=N'");
    a.params = std::atoll(params.c_str() + 7);
    archs[key.substr(9)] = a;
  }

  // Benchmarks by name, repetitions and aggregates folded.
  std::map<std::string, Measurement> measured;
  for (const auto& b : benchmarks->items) {
    const std::string name = b.string_or("run_name", b.string_or("name", ""));
    if (name.empty()) throw Error("'" + json_path + "': a benchmark entry has no name");
    Measurement& m = measured[name];
    if (b.bool_or("error_occurred", false)) {
      m.error = b.string_or("error_message", "error");
      continue;
    }
    const double scale = unit_seconds(b.string_or("time_unit", "ns"), json_path);
    const double seconds = b.number_or("real_time", 0) * scale;
    if (b.string_or("run_type", "iteration") == "aggregate") {
      if (b.string_or("aggregate_name", "") == "median") m.median_aggregate = seconds;
      continue;
    }
    m.repetitions.push_back(seconds);
    m.label = b.string_or("label", "");
    for (const char* counter : {"builds", "forwards", "backwards", "samples"})
      if (const Json* c = b.find(counter)) m.counters[counter] = c->number;
  }

  // Which catalog proxies each pass set is the floor of.
  std::map<std::string, std::vector<std::string>> floor_users;
  std::map<std::string, const ProxyInfo*> catalog;
  for (const auto& p : proxy_catalog()) {
    catalog[p.name] = &p;
    floor_users[pass_set_name({p.passes.begin(), p.passes.end()})].push_back(p.name);
  }
  for (const char* group : {"zc", "all"}) {
    std::set<Pass> passes;
    for (const auto* p : resolve_proxy_list(group)) passes.insert(p->passes.begin(), p->passes.end());
    floor_users[pass_set_name(passes)].push_back(group);
  }

  struct ArchWork {
    std::vector<std::pair<const ProxyInfo*, const Measurement*>> proxies;
    std::vector<PassRow> passes;
  };
  std::map<std::string, ArchWork> work;  // by arch label
  std::string floors_json;
  std::set<std::string> floors_seen;
  BenchImportSummary summary;
  for (const auto& [name, m] : measured) {
    const auto first = name.find('/'), last = name.rfind('/');
    if (first == std::string::npos || first == last) {
      summary.notes.push_back("skipped '" + name + "': not an engine/ or floor/ benchmark");
      continue;
    }
    const std::string kind = name.substr(0, first);
    const std::string what = name.substr(first + 1, last - first - 1);
    const std::string label = name.substr(last + 1);
    if (!archs.count(label)) {
      summary.notes.push_back("skipped '" + name + "': no context entry 'nbz_arch " + label + "'");
      continue;
    }
    auto& w = work[label];
    if (kind == "engine" && catalog.count(what)) {
      w.proxies.emplace_back(catalog.at(what), &m);
    } else if (kind == "engine" && (what == "zc" || what == "all")) {
      std::string users;
      for (const auto* p : resolve_proxy_list(what)) users += (users.empty() ? "" : ",") + p->name;
      w.passes.push_back({"engine:" + what, m.seconds(), users, m.error.empty()});
      ++summary.sets;
    } else if (kind == "floor") {
      std::string users;
      for (const auto& u : floor_users[what]) users += (users.empty() ? "" : ",") + u;
      w.passes.push_back({"floor:" + what, m.seconds(), users, m.error.empty()});
      ++summary.floors;
      if (floors_seen.insert(what).second && m.error.empty())
        floors_json += std::string(floors_json.empty() ? "" : ",") + "\"" + json_escape(what) +
                       "\":{\"builds\":" + fmt(m.counters.count("builds") ? m.counters.at("builds") : 0) +
                       ",\"forwards\":" + fmt(m.counters.count("forwards") ? m.counters.at("forwards") : 0) +
                       ",\"backwards\":" + fmt(m.counters.count("backwards") ? m.counters.at("backwards") : 0) +
                       ",\"samples\":" + fmt(m.counters.count("samples") ? m.counters.at("samples") : 0) + "}";
    } else {
      summary.notes.push_back("skipped '" + name + "': unknown benchmark kind or proxy");
    }
  }
  if (work.empty()) throw Error("'" + json_path + "' holds no engine/ or floor/ benchmark of nasbench_bench");

  // The architectures and proxies the timings refer to; a contradiction with the database is an
  // error from ensure_architectures / ensure_proxies.
  std::map<std::string, std::vector<ArchRow>> rows_by_space;
  for (const auto& [label, w] : work) {
    (void)w;
    const ArchInfo& a = archs.at(label);
    // NB101 architectures are named by their module hash, which is also their equivalence class.
    const std::string key = a.space == "nb201" ? nb201::Cell::parse(a.arch).canonical_key() : a.arch;
    rows_by_space[a.space].push_back({a.index, a.arch, key});
  }
  std::map<std::string, std::map<std::int64_t, std::int64_t>> arch_ids;
  std::string spaces;
  for (const auto& [space, rows] : rows_by_space) {
    arch_ids[space] = db.ensure_architectures(space, rows);
    spaces += (spaces.empty() ? "" : "+") + space;
  }
  std::vector<ProxyRow> proxy_rows;
  std::set<std::string> proxy_names;
  for (const auto& [label, w] : work)
    for (const auto& [p, m] : w.proxies)
      if (proxy_names.insert(p->name).second) {
        std::string passes;
        for (Pass pass : p->passes) passes += (passes.empty() ? "" : ",") + std::string(pass_name(pass));
        proxy_rows.push_back({p->name, p->sign, p->family, p->auxiliary ? "auxiliary" : "score",
                              passes, p->parameters, p->description});
      }
  const auto proxy_ids = db.ensure_proxies(proxy_rows);

  const std::string date = context->string_or("date", "");
  RunRecord run;
  run.space = spaces;
  run.dataset = "cifar10";
  run.images = "benchmark minibatch: " + need("nbz_images");
  run.num_classes = 10;
  run.input_size = 32;
  run.seed = std::atoll(need("nbz_seed").c_str());
  run.batch_size = std::atoi(need("nbz_batch_size").c_str());
  run.batch_indices = need("nbz_batch_indices");
  run.device = need("nbz_device");
  // Files written before nbz_device_name existed ran on the CPU, which nbz_cpu names.
  run.device_name = context->string_or("nbz_device_name", need("nbz_cpu"));
  run.threads = std::atoi(need("nbz_threads").c_str());
  run.blas = need("nbz_blas");
  run.torch_version = need("nbz_torch_version");
  run.code_version = code;
  run.build = need("nbz_build");
  run.host = need("nbz_host");
  run.cpu = need("nbz_cpu");
  run.config_key = "timing;date=" + date + ";host=" + run.host + ";space=" + spaces +
                   ";seed=" + std::to_string(run.seed) + ";batch=" + run.batch_indices +
                   ";device=" + run.device + ";threads=" + std::to_string(run.threads) +
                   ";blas=" + run.blas + ";torch=" + run.torch_version + ";code=" + code;
  std::string load_avg;
  if (const Json* l = context->find("load_avg"))
    for (const auto& x : l->items) load_avg += (load_avg.empty() ? "" : ",") + fmt(x.number);
  run.options_json =
      "{\"kind\":\"timing\",\"source\":\"" + json_escape(json_path) + "\",\"benchmark_date\":\"" +
      json_escape(date) + "\",\"executable\":\"" + json_escape(context->string_or("executable", "")) +
      "\",\"load_avg\":[" + load_avg + "],\"nngp\":\"" +
      json_escape(context->string_or("nbz_nngp", "")) +
      "\",\"value\":\"seconds per call: median over repetitions, else the mean of the single "
      "repetition\",\"floors\":{" + floors_json + "}}";
  summary.run_id = db.find_or_create_run(run, &summary.run_created);
  const auto session = db.begin_session(summary.run_id, command_line, host_info().host, code_version());
  for (const auto& [label, w] : work) {
    const ArchInfo& a = archs.at(label);
    std::vector<ScoreRow> scores;
    double engine_total = 0;
    for (const auto& [p, m] : w.proxies) {
      ScoreRow row;
      row.proxy_id = proxy_ids.at(p->name);
      row.own_seconds = m->seconds();
      const auto failed_at = m->label.find("; failed ");
      if (!m->error.empty()) {
        row.failure_reason = "benchmark error: " + m->error;
      } else if (failed_at != std::string::npos) {
        row.failure_reason = "value not stored by a sweep (timing kept): " +
                             m->label.substr(failed_at + 9);
      } else {
        row.ok = true;
        row.value = m->seconds();
        row.rank_value = -m->seconds();  // lower is better for a cost
      }
      if (!row.ok) ++summary.failed_timings;
      engine_total += m->seconds();
      scores.push_back(row);
    }
    summary.proxy_timings += static_cast<int>(scores.size());
    summary.rows_inserted += db.store_arch_result(summary.run_id, session,
                                                  arch_ids.at(a.space).at(a.index), scores, w.passes);
    ++summary.archs;
    std::string sets;
    for (const auto& p : w.passes)
      if (p.pass.rfind("engine:", 0) == 0) sets += ", " + p.pass.substr(7) + " " + fmt(p.seconds) + " s";
    summary.lines.push_back(label + " (" + a.space + " " + std::to_string(a.index) + ", " +
                            std::to_string(a.params) + " parameters): " +
                            std::to_string(w.proxies.size()) + " proxies alone " +
                            fmt(engine_total) + " s in total" + sets);
  }
  db.end_session(session, "completed");
  return summary;
}

}  // namespace nbz::db
