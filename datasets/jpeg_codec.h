// JPEG decoding (and, for tests and fixtures, encoding) of 8-bit RGB images through libjpeg
// (Debian: libjpeg-dev = libjpeg62-turbo). Decoding uses libjpeg's defaults - accurate integer
// IDCT, fancy upsampling - which are also what Pillow uses, so the pixels equal those a Python
// reference reading the same files with Pillow sees (tests/datasets_cifar10_jpeg_test.cpp checks
// this where Debian's python3-pil is installed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nbz {

// Decodes a JPEG that must be exactly height x width into 3 x height x width bytes (CHW, R, G, B)
// at out_chw. Greyscale JPEGs are expanded to RGB, as Pillow's convert('RGB') does. Throws
// nbz::Error mentioning `what` (e.g. the file or archive entry) for corrupt data, any libjpeg
// warning (such as a truncated stream), or other dimensions.
void decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, int height, int width,
                     std::uint8_t* out_chw, const std::string& what);

// Encodes 3 x height x width bytes (CHW, R, G, B) as a baseline JPEG of the given quality
// (1..100, 4:2:0 chroma subsampling as libjpeg defaults).
std::string encode_jpeg_rgb(const std::uint8_t* chw, int height, int width, int quality);

// "libjpeg-turbo 2.1.5 (API 62)": the decoder the pixels depend on, for run provenance.
std::string jpeg_library_version();

}  // namespace nbz
