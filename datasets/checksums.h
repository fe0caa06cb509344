// Verifies files of the shared data folder against its SHA256SUMS before first use, so a
// truncated or altered file is a clear error, not silently wrong scores.
#pragma once

#include <string>

namespace nbz {

// Hex SHA-256 of a file. Throws nbz::Error naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

// Hex MD5 of a file, for data sets whose publishers list MD5 digests (NAS-Bench-201's
// ImageNet16 files). Throws nbz::Error naming the file when it cannot be read.
std::string md5_file(const std::string& path);

// Checks <data_dir>/<relative_path> against the line for it in <data_dir>/SHA256SUMS. Each file is
// hashed once per process. Throws nbz::Error naming the file for: missing SHA256SUMS, no entry,
// missing file, checksum mismatch (with both digests).
void verify_data_file(const std::string& data_dir, const std::string& relative_path);

}  // namespace nbz
