// A small, strict reader for Python pickles of dicts of numpy arrays and lists of ints: the
// downsampled-ImageNet batch files (Chrabaszcz et al. 2017, as used by NAS-Bench-201) and anything
// shaped like them.
//
// Why so narrow: a pickle is a program for a stack machine that may call any importable Python
// function. This reader runs only the opcodes such files contain, written by Python 2 (protocols
// 0-2, strings as STRING / BINSTRING) or Python 3 (protocols 0-5, bytes as BINBYTES, or as
// _codecs.encode(text, 'latin1') below protocol 3, or as an in-band buffer with protocol 5), and
// calls only the few numpy and codec functions that rebuild an array:
//   numpy.core.multiarray._reconstruct + ndarray.__setstate__ (BUILD)  (protocols 0-4)
//   numpy.core.numeric._frombuffer                                     (protocol 5)
//   numpy.dtype + dtype.__setstate__ (BUILD), _codecs.encode, builtins.bytes (empty bytes)
// (numpy 2 spells the modules numpy._core.*; both are accepted). Anything else - another opcode,
// another global, a structured or object dtype, a size that does not add up, trailing bytes - is
// an nbz::Error naming the file, the byte offset and the opcode or global.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nbz::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

enum class Kind {
  kNone,
  kBool,
  kInt,
  kBytes,    // Python 2 str, Python 3 bytes / bytearray
  kText,     // Python unicode / Python 3 str, held as UTF-8
  kTuple,
  kList,
  kDict,     // items: key, value, key, value, ... in insertion order
  kGlobal,   // an allowed callable or class; text = "module.name"
  kDtype,    // a numpy dtype: text = type code without byte order ("u1", "f8"), byte_order
  kNdArray,  // a numpy array (see the fields below)
};

struct Value {
  Kind kind = Kind::kNone;
  std::int64_t integer = 0;       // kInt, kBool (0 / 1)
  std::string text;               // kBytes, kText, kGlobal, kDtype
  std::vector<ValuePtr> items;    // kTuple, kList, kDict
  // kDtype and kNdArray:
  char byte_order = '|';          // '|' not applicable, '<' little, '>' big, '=' native
  int item_size = 0;              // bytes per element
  // kNdArray:
  std::string dtype;              // type code, e.g. "u1"
  std::vector<std::int64_t> shape;
  bool fortran_order = false;
  bool built = false;             // false between _reconstruct and its BUILD
  std::string data;               // the raw element bytes, prod(shape) * item_size

  // Looks `key` up in a kDict (keys compared as bytes, so Python 2 str and Python 3 str match);
  // nullptr when absent. The last occurrence wins, as in Python.
  const Value* find(const std::string& key) const;
};

// Human-readable kind name for error messages ("dict", "numpy array", ...).
const char* kind_name(Kind kind);

// Runs the pickle in `bytes`; `source` names it in errors (usually the file path).
ValuePtr parse(const std::string& bytes, const std::string& source);

// Reads and parses a whole file. Throws nbz::Error naming the file when it cannot be read.
ValuePtr read_file(const std::string& path);

}  // namespace nbz::pickle
