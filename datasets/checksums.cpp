#include "datasets/checksums.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

#include "foundation/errors.h"

namespace nbz {

namespace {

std::string digest_file(const std::string& path, const EVP_MD* algorithm) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read data file '" + path + "'");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  NBZ_ASSERT(ctx && EVP_DigestInit_ex(ctx.get(), algorithm, nullptr) == 1, "EVP init");
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0)
      EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw Error("read error in data file '" + path + "'");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

}  // namespace

std::string sha256_file(const std::string& path) { return digest_file(path, EVP_sha256()); }

std::string md5_file(const std::string& path) { return digest_file(path, EVP_md5()); }

void verify_data_file(const std::string& data_dir, const std::string& relative_path) {
  static std::mutex mutex;
  static std::set<std::string> verified;
  const std::string path = data_dir + "/" + relative_path;
  std::lock_guard<std::mutex> lock(mutex);
  if (verified.count(path)) return;

  const std::string sums_path = data_dir + "/SHA256SUMS";
  std::ifstream sums(sums_path);
  if (!sums)
    throw Error("cannot read '" + sums_path + "' (is --data pointing at the shared data folder?)");
  std::string line, expected;
  while (std::getline(sums, line)) {
    std::istringstream fields(line);
    std::string digest, name;
    fields >> digest >> name;
    if (!name.empty() && name[0] == '*') name.erase(0, 1);  // binary-mode marker
    if (name == relative_path) expected = digest;
  }
  if (expected.empty())
    throw Error("'" + relative_path + "' has no entry in '" + sums_path + "'");
  const std::string actual = sha256_file(path);
  if (actual != expected)
    throw Error("data file '" + path + "' is corrupt: SHA-256 " + actual + ", expected " +
                expected + " (from " + sums_path + ")");
  verified.insert(path);
}

}  // namespace nbz
