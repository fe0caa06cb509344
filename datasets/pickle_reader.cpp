#include "datasets/pickle_reader.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "foundation/errors.h"

namespace nbz::pickle {

const Value* Value::find(const std::string& key) const {
  NBZ_ASSERT(kind == Kind::kDict, "find on a non-dict");
  for (size_t i = items.size(); i >= 2; i -= 2) {
    const Value& k = *items[i - 2];
    if ((k.kind == Kind::kBytes || k.kind == Kind::kText) && k.text == key)
      return items[i - 1].get();
  }
  return nullptr;
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kBytes: return "bytes";
    case Kind::kText: return "str";
    case Kind::kTuple: return "tuple";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kGlobal: return "global";
    case Kind::kDtype: return "numpy dtype";
    case Kind::kNdArray: return "numpy array";
  }
  return "?";
}

namespace {

// Names of every pickle opcode (Python's pickletools), so that an unsupported one is reported by
// name rather than as a bare byte.
const char* opcode_name(std::uint8_t op) {
  switch (op) {
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'M': return "BININT2";
    case 'L': return "LONG";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x8e: return "BINBYTES8";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    case 'N': return "NONE";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 'V': return "UNICODE";
    case 0x8c: return "SHORT_BINUNICODE";
    case 'X': return "BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 'F': return "FLOAT";
    case 'G': return "BINFLOAT";
    case ']': return "EMPTY_LIST";
    case 'a': return "APPEND";
    case 'e': return "APPENDS";
    case 'l': return "LIST";
    case ')': return "EMPTY_TUPLE";
    case 't': return "TUPLE";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case '}': return "EMPTY_DICT";
    case 'd': return "DICT";
    case 's': return "SETITEM";
    case 'u': return "SETITEMS";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case '0': return "POP";
    case '2': return "DUP";
    case '(': return "MARK";
    case '1': return "POP_MARK";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'j': return "LONG_BINGET";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 0x94: return "MEMOIZE";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 'c': return "GLOBAL";
    case 0x93: return "STACK_GLOBAL";
    case 'R': return "REDUCE";
    case 'b': return "BUILD";
    case 'i': return "INST";
    case 'o': return "OBJ";
    case 0x81: return "NEWOBJ";
    case 0x92: return "NEWOBJ_EX";
    case 0x80: return "PROTO";
    case '.': return "STOP";
    case 0x95: return "FRAME";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    default: return nullptr;
  }
}

std::string hex_byte(std::uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ValuePtr make(Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

ValuePtr make_int(Kind kind, std::int64_t value) {
  auto v = make(kind);
  v->integer = value;
  return v;
}

ValuePtr make_string(Kind kind, std::string text) {
  auto v = make(kind);
  v->text = std::move(text);
  return v;
}

bool is_string(const Value& v) { return v.kind == Kind::kBytes || v.kind == Kind::kText; }
bool is_integral(const Value& v) { return v.kind == Kind::kInt || v.kind == Kind::kBool; }

class Unpickler {
 public:
  Unpickler(const std::string& bytes, const std::string& source) : in_(bytes), source_(source) {}

  ValuePtr run() {
    while (true) {
      if (pos_ >= in_.size()) fail("ends without STOP (truncated file?)");
      op_pos_ = pos_;
      const std::uint8_t op = byte();
      if (op == '.') return stop();
      step(op);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("pickle file '" + source_ + "', byte " + std::to_string(op_pos_) + ": " + what);
  }

  [[noreturn]] void unsupported(std::uint8_t op) const {
    const char* name = opcode_name(op);
    fail(std::string("unsupported opcode ") + hex_byte(op) + (name ? std::string(" (") + name + ")"
                                                                   : std::string(" (unknown)")) +
         "; this reader accepts only the opcodes of dicts of numpy arrays and int lists");
  }

  // --- reading the byte stream ---
  void need(std::uint64_t n) const {
    if (n > in_.size() - pos_)
      fail("needs " + std::to_string(n) + " more bytes, the file has " +
           std::to_string(in_.size() - pos_) + " (truncated file?)");
  }
  std::uint8_t byte() {
    need(1);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint64_t little_endian(int n) {
    need(static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += static_cast<size_t>(n);
    return v;
  }
  std::string_view take(std::uint64_t n) {
    need(n);
    std::string_view out(in_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return out;
  }
  std::string_view line() {
    const size_t end = in_.find('\n', pos_);
    if (end == std::string::npos) fail("text argument without a newline (truncated file?)");
    std::string_view out(in_.data() + pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  std::int64_t decimal(std::string_view text, const char* what) {
    std::string_view digits = text;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 19) fail(std::string("bad ") + what + " '" +
                                                   std::string(text) + "'");
    std::uint64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') fail(std::string("bad ") + what + " '" + std::string(text) + "'");
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail(std::string(what) + " '" + std::string(text) + "' does not fit in 64 bits");
    return negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  }

  // --- the stack ---
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  ValuePtr pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Value& top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return *stack_.back();
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + mark),
                                std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr tuple(std::vector<ValuePtr> items) {
    auto v = make(Kind::kTuple);
    v->items = std::move(items);
    return v;
  }
  void put(std::uint64_t index) {
    if (stack_.size() <= floor()) fail("memo store with an empty stack");
    memo_[index] = stack_.back();
  }
  void get(std::uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " was never stored");
    push(it->second);
  }
  Value& container_below(std::size_t depth, Kind kind, const char* op) {
    if (stack_.size() < floor() + depth + 1) fail(std::string(op) + ": stack underflow");
    Value& target = *stack_[stack_.size() - depth - 1];
    if (target.kind != kind)
      fail(std::string(op) + " on a " + kind_name(target.kind) + ", expected a " +
           kind_name(kind));
    return target;
  }

  // --- strings ---
  // Python 2 protocol 0 STRING: a quoted repr() with backslash escapes (codecs.escape_decode).
  std::string escape_decoded(std::string_view quoted) {
    if (quoted.size() < 2 || (quoted[0] != '\'' && quoted[0] != '"') ||
        quoted.back() != quoted[0])
      fail("STRING argument is not a quoted string");
    const std::string_view s = quoted.substr(1, quoted.size() - 2);
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\') {
        out.push_back(s[i]);
        continue;
      }
      if (++i == s.size()) fail("STRING ends with a lone backslash");
      const char c = s[i];
      switch (c) {
        case '\n': break;
        case '\\': case '\'': case '"': out.push_back(c); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case 'x': {
          const int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
          const int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
          if (hi < 0 || lo < 0) fail("STRING has an invalid \\x escape");
          out.push_back(static_cast<char>(hi * 16 + lo));
          i += 2;
          break;
        }
        default:
          if (c >= '0' && c <= '7') {
            int v = c - '0';
            for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
              v = v * 8 + (s[++i] - '0');
            out.push_back(static_cast<char>(v & 0xFF));
          } else {  // unknown escapes stay as written, as in Python
            out.push_back('\\');
            out.push_back(c);
          }
      }
    }
    return out;
  }

  // Protocol 0 UNICODE: raw-unicode-escape (bytes are Latin-1 code points, \uXXXX and
  // \UXXXXXXXX escapes); returned as UTF-8.
  std::string raw_unicode_decoded(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      const auto b = static_cast<std::uint8_t>(s[i]);
      const int digits = (b == '\\' && i + 1 < s.size())
                             ? (s[i + 1] == 'u' ? 4 : s[i + 1] == 'U' ? 8 : 0)
                             : 0;
      if (digits == 0) {
        append_utf8(out, b);
        continue;
      }
      if (i + 2 + static_cast<size_t>(digits) > s.size()) fail("UNICODE has a truncated escape");
      std::uint32_t cp = 0;
      for (int k = 0; k < digits; ++k) {
        const int h = hex_digit(s[i + 2 + static_cast<size_t>(k)]);
        if (h < 0) fail("UNICODE has an invalid \\u escape");
        cp = cp * 16 + static_cast<std::uint32_t>(h);
      }
      if (cp > 0x10FFFF) fail("UNICODE escape beyond U+10FFFF");
      append_utf8(out, cp);
      i += 1 + static_cast<size_t>(digits);
    }
    return out;
  }

  // _codecs.encode(text, 'latin1'): Python 3 writes bytes this way below protocol 3. The text is
  // UTF-8 of code points < 256, so each is one byte or a two-byte sequence led by 0xC2 / 0xC3.
  std::string latin1_from_utf8(const std::string& s) {
    std::string out(s.size(), '\0');
    const auto* in = reinterpret_cast<const std::uint8_t*>(s.data());
    const auto* const end = in + s.size();
    char* o = out.data();
    while (in < end) {
      const std::uint8_t b = *in;
      if (b < 0x80) {
        *o++ = static_cast<char>(b);
        in += 1;
      } else if ((b == 0xC2 || b == 0xC3) && in + 1 < end && (in[1] & 0xC0) == 0x80) {
        *o++ = static_cast<char>(((b & 0x03) << 6) | (in[1] & 0x3F));
        in += 2;
      } else {
        fail("_codecs.encode: text is not Latin-1 (a character beyond U+00FF or bad UTF-8)");
      }
    }
    out.resize(static_cast<size_t>(o - out.data()));
    return out;
  }

  // --- globals and the calls they allow ---
  ValuePtr global(const std::string& module, const std::string& name) {
    static const char* const kAllowed[][2] = {
        {"numpy.core.multiarray", "_reconstruct"}, {"numpy._core.multiarray", "_reconstruct"},
        {"numpy.core.numeric", "_frombuffer"},     {"numpy._core.numeric", "_frombuffer"},
        {"numpy", "ndarray"},                      {"numpy", "dtype"},
        {"_codecs", "encode"},                     {"__builtin__", "bytes"},
        {"builtins", "bytes"}};
    for (const auto& allowed : kAllowed)
      if (module == allowed[0] && name == allowed[1]) return make_string(Kind::kGlobal,
                                                                         module + "." + name);
    fail("global '" + module + "." + name +
         "' is not allowed (only numpy array reconstruction is)");
  }

  static bool ends_with(const std::string& s, const char* suffix) {
    const size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
  }

  // Parses a numpy type code such as "u1", "<f8", "|b1" into an item size; only plain numbers.
  int item_size_of(const std::string& code) {
    std::string_view c = code;
    if (!c.empty() && std::string_view("<>|=").find(c[0]) != std::string_view::npos)
      c.remove_prefix(1);
    if (c.size() < 2 || std::string_view("biufc").find(c[0]) == std::string_view::npos)
      fail("numpy dtype '" + code + "' is not supported (only bool, int, uint, float, complex)");
    int size = 0;
    for (char d : c.substr(1)) {
      if (d < '0' || d > '9' || size > 100) fail("numpy dtype '" + code + "' is not supported");
      size = size * 10 + (d - '0');
    }
    if (size < 1 || size > 32) fail("numpy dtype '" + code + "' has an odd item size");
    return size;
  }

  std::vector<std::int64_t> shape_of(const Value& v, const char* what) {
    if (v.kind != Kind::kTuple) fail(std::string(what) + " is a " + kind_name(v.kind) +
                                     ", expected a tuple of ints");
    std::vector<std::int64_t> shape;
    for (const auto& d : v.items) {
      if (d->kind != Kind::kInt || d->integer < 0)
        fail(std::string(what) + " has a dimension that is not a non-negative int");
      shape.push_back(d->integer);
    }
    return shape;
  }

  void set_array_data(Value& array, const std::vector<std::int64_t>& shape, const Value& dtype,
                      bool fortran, const Value& data) {
    if (dtype.kind != Kind::kDtype) fail("array dtype is a " + std::string(kind_name(dtype.kind)));
    if (data.kind != Kind::kBytes)
      fail("array data is a " + std::string(kind_name(data.kind)) +
           ", expected bytes (object arrays are not supported)");
    std::uint64_t count = 1;
    for (auto d : shape) {
      if (d != 0 && count > (std::uint64_t{1} << 40) / static_cast<std::uint64_t>(d))
        fail("array shape is implausibly large");
      count *= static_cast<std::uint64_t>(d);
    }
    const std::uint64_t expected = count * static_cast<std::uint64_t>(dtype.item_size);
    if (expected != data.text.size())
      fail("array of shape " + shape_text(shape) + " and dtype " + dtype.text + " needs " +
           std::to_string(expected) + " bytes, the pickle holds " +
           std::to_string(data.text.size()));
    array.dtype = dtype.text;
    array.item_size = dtype.item_size;
    array.byte_order = dtype.byte_order;
    array.shape = shape;
    array.fortran_order = fortran;
    array.data = data.text;
    array.built = true;
  }

  static std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
  }

  ValuePtr reduce(const Value& callable, const Value& args) {
    if (callable.kind != Kind::kGlobal)
      fail("REDUCE calls a " + std::string(kind_name(callable.kind)) + ", not an allowed global");
    if (args.kind != Kind::kTuple) fail("REDUCE arguments are not a tuple");
    const auto& a = args.items;
    const std::string& f = callable.text;
    if (ends_with(f, "._reconstruct")) {
      // numpy's ndarray.__reduce__: _reconstruct(ndarray, (0,), b'b'), then BUILD with the state.
      if (a.size() != 3 || a[0]->kind != Kind::kGlobal || a[0]->text != "numpy.ndarray" ||
          !is_string(*a[2]) || a[2]->text != "b")
        fail("_reconstruct arguments are not (numpy.ndarray, shape, 'b')");
      shape_of(*a[1], "_reconstruct shape");
      return make(Kind::kNdArray);
    }
    if (ends_with(f, "._frombuffer")) {
      // numpy's protocol-5 reduction: _frombuffer(buffer, dtype, shape, order).
      if (a.size() != 4 || !is_string(*a[3]) || (a[3]->text != "C" && a[3]->text != "F"))
        fail("_frombuffer arguments are not (buffer, dtype, shape, 'C' or 'F')");
      auto array = make(Kind::kNdArray);
      set_array_data(*array, shape_of(*a[2], "_frombuffer shape"), *a[1], a[3]->text == "F",
                     *a[0]);
      return array;
    }
    if (f == "numpy.dtype") {
      if (a.size() != 3 || !is_string(*a[0]) || !is_integral(*a[1]) || !is_integral(*a[2]))
        fail("numpy.dtype arguments are not (type code, align, copy)");
      auto dtype = make_string(Kind::kDtype, a[0]->text);
      dtype->item_size = item_size_of(a[0]->text);
      dtype->byte_order = dtype->item_size == 1 ? '|' : '=';
      return dtype;
    }
    if (f == "_codecs.encode") {
      if (a.size() != 2 || a[0]->kind != Kind::kText || a[1]->kind != Kind::kText ||
          (a[1]->text != "latin1" && a[1]->text != "latin-1"))
        fail("_codecs.encode arguments are not (str, 'latin1')");
      return make_string(Kind::kBytes, latin1_from_utf8(a[0]->text));
    }
    if (ends_with(f, ".bytes")) {
      if (!a.empty()) fail("bytes() called with arguments");
      return make(Kind::kBytes);
    }
    fail("global '" + f + "' cannot be called");
  }

  void build(Value& object, const Value& state) {
    if (state.kind != Kind::kTuple) fail("BUILD state is not a tuple");
    const auto& s = state.items;
    if (object.kind == Kind::kDtype) {
      // dtype.__setstate__: (version 3 or 4, byte order, subarray, names, fields, elsize,
      // alignment, flags[, metadata]).
      const bool v3 = s.size() == 8 && s[0]->kind == Kind::kInt && s[0]->integer == 3;
      const bool v4 = s.size() == 9 && s[0]->kind == Kind::kInt && s[0]->integer == 4;
      if (!v3 && !v4) fail("numpy dtype state is not version 3 or 4");
      if (!is_string(*s[1]) || s[1]->text.size() != 1 ||
          std::string_view("<>|=").find(s[1]->text[0]) == std::string_view::npos)
        fail("numpy dtype byte order is not one of < > | =");
      for (int i = 2; i <= 4; ++i)
        if (s[static_cast<size_t>(i)]->kind != Kind::kNone)
          fail("structured or sub-array numpy dtypes are not supported");
      object.byte_order = s[1]->text[0];
      return;
    }
    if (object.kind == Kind::kNdArray && !object.built) {
      // ndarray.__setstate__: ([version 1,] shape, dtype, is_fortran, raw data).
      size_t i = 0;
      if (s.size() == 5) {
        if (s[0]->kind != Kind::kInt || s[0]->integer != 1)
          fail("numpy array state version is not 1");
        i = 1;
      } else if (s.size() != 4) {
        fail("numpy array state has " + std::to_string(s.size()) + " fields, expected 4 or 5");
      }
      if (!is_integral(*s[i + 2])) fail("numpy array state: is_fortran is not a bool");
      set_array_data(object, shape_of(*s[i], "array state shape"), *s[i + 1],
                     s[i + 2]->integer != 0, *s[i + 3]);
      return;
    }
    fail(std::string("BUILD on a ") + kind_name(object.kind) + " is not supported");
  }

  // --- the interpreter ---
  ValuePtr stop() {
    ValuePtr result = pop();
    if (!stack_.empty() || !marks_.empty()) fail("STOP with values left on the stack");
    if (pos_ != in_.size())
      fail(std::to_string(in_.size() - pos_) + " bytes after STOP (not one pickle?)");
    if (result->kind == Kind::kNdArray && !result->built) fail("array was never BUILT");
    return result;
  }

  std::string_view counted(int length_bytes) {
    return take(little_endian(length_bytes));
  }

  void step(std::uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        const int protocol = byte();
        if (protocol > 5) fail("pickle protocol " + std::to_string(protocol) + " is unknown");
        break;
      }
      case 0x95:  // FRAME: a length prefix only; the framed opcodes follow inline.
        need(little_endian(8));
        break;
      case '(': marks_.push_back(stack_.size()); break;
      // memo
      case 'p': put(static_cast<std::uint64_t>(decimal(line(), "PUT index"))); break;
      case 'q': put(byte()); break;
      case 'r': put(little_endian(4)); break;
      case 0x94: put(memo_.size()); break;
      case 'g': get(static_cast<std::uint64_t>(decimal(line(), "GET index"))); break;
      case 'h': get(byte()); break;
      case 'j': get(little_endian(4)); break;
      // scalars
      case 'N': push(make(Kind::kNone)); break;
      case 0x88: push(make_int(Kind::kBool, 1)); break;
      case 0x89: push(make_int(Kind::kBool, 0)); break;
      case 'I': {  // protocol 0 writes True / False as I01 / I00
        const std::string_view text = line();
        if (text == "00" || text == "01") push(make_int(Kind::kBool, text == "01"));
        else push(make_int(Kind::kInt, decimal(text, "INT")));
        break;
      }
      case 'L': {
        std::string_view text = line();
        if (!text.empty() && text.back() == 'L') text.remove_suffix(1);
        push(make_int(Kind::kInt, decimal(text, "LONG")));
        break;
      }
      case 'J': push(make_int(Kind::kInt, static_cast<std::int32_t>(little_endian(4)))); break;
      case 'K': push(make_int(Kind::kInt, byte())); break;
      case 'M': push(make_int(Kind::kInt, static_cast<std::int64_t>(little_endian(2)))); break;
      case 0x8a: {  // LONG1: two's complement, little-endian
        const int n = byte();
        if (n > 8) fail("LONG1 of " + std::to_string(n) + " bytes does not fit in 64 bits");
        std::uint64_t v = little_endian(n);
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t{0} << (8 * n);
        push(make_int(Kind::kInt, static_cast<std::int64_t>(v)));
        break;
      }
      // strings
      case 'S': push(make_string(Kind::kBytes, escape_decoded(line()))); break;
      case 'T': {
        const auto n = static_cast<std::int32_t>(little_endian(4));
        if (n < 0) fail("BINSTRING with a negative length");
        push(make_string(Kind::kBytes, std::string(take(static_cast<std::uint64_t>(n)))));
        break;
      }
      case 'U': push(make_string(Kind::kBytes, std::string(counted(1)))); break;
      case 'B': push(make_string(Kind::kBytes, std::string(counted(4)))); break;
      case 'C': push(make_string(Kind::kBytes, std::string(counted(1)))); break;
      case 0x96: push(make_string(Kind::kBytes, std::string(counted(8)))); break;
      case 'V': push(make_string(Kind::kText, raw_unicode_decoded(line()))); break;
      case 'X': push(make_string(Kind::kText, std::string(counted(4)))); break;
      case 0x8c: push(make_string(Kind::kText, std::string(counted(1)))); break;
      // containers
      case ')': push(make(Kind::kTuple)); break;
      case 't': push(tuple(pop_mark())); break;
      case 0x85: case 0x86: case 0x87: {
        std::vector<ValuePtr> items(static_cast<size_t>(op - 0x84));
        for (size_t i = items.size(); i > 0; --i) items[i - 1] = pop();
        push(tuple(std::move(items)));
        break;
      }
      case ']': push(make(Kind::kList)); break;
      case 'l': {
        auto list = make(Kind::kList);
        list->items = pop_mark();
        push(list);
        break;
      }
      case 'a': {
        ValuePtr item = pop();
        container_below(0, Kind::kList, "APPEND").items.push_back(std::move(item));
        break;
      }
      case 'e': {
        std::vector<ValuePtr> items = pop_mark();
        auto& list = container_below(0, Kind::kList, "APPENDS").items;
        list.insert(list.end(), items.begin(), items.end());
        break;
      }
      case '}': push(make(Kind::kDict)); break;
      case 'd': {
        auto dict = make(Kind::kDict);
        dict->items = pop_mark();
        if (dict->items.size() % 2) fail("DICT with an odd number of items");
        push(dict);
        break;
      }
      case 's': {
        ValuePtr value = pop();
        ValuePtr key = pop();
        auto& dict = container_below(0, Kind::kDict, "SETITEM").items;
        dict.push_back(std::move(key));
        dict.push_back(std::move(value));
        break;
      }
      case 'u': {
        std::vector<ValuePtr> items = pop_mark();
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        auto& dict = container_below(0, Kind::kDict, "SETITEMS").items;
        dict.insert(dict.end(), items.begin(), items.end());
        break;
      }
      // calls
      case 'c': {
        const std::string module(line());
        const std::string name(line());
        push(global(module, name));
        break;
      }
      case 0x93: {
        ValuePtr name = pop();
        ValuePtr module = pop();
        if (module->kind != Kind::kText || name->kind != Kind::kText)
          fail("STACK_GLOBAL operands are not strings");
        push(global(module->text, name->text));
        break;
      }
      case 'R': {
        ValuePtr args = pop();
        ValuePtr callable = pop();
        push(reduce(*callable, *args));
        break;
      }
      case 'b': {
        ValuePtr state = pop();
        build(top(), *state);
        break;
      }
      default: unsupported(op);
    }
  }

  const std::string& in_;
  const std::string& source_;
  size_t pos_ = 0, op_pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
};

}  // namespace

ValuePtr parse(const std::string& bytes, const std::string& source) {
  return Unpickler(bytes, source).run();
}

ValuePtr read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error("cannot open pickle file '" + path + "'");
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error("cannot size pickle file '" + path + "'");
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size)) throw Error("read error in pickle file '" + path + "'");
  return parse(bytes, path);
}

}  // namespace nbz::pickle
