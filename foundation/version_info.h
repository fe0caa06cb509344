// Build facts baked in at build time (see foundation/version_info.cmake).
#pragma once

namespace nbz {
const char* code_version();  // git describe --always --dirty
const char* build_type();
const char* compiler();
}  // namespace nbz
