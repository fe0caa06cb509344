#include "datasets/jpeg_codec.h"

// jpeglib.h needs size_t and FILE declared first.
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <jpeglib.h>

#include "foundation/errors.h"

namespace nbz {

namespace {

// libjpeg reports errors through a callback that must not return; it is C code, so a C++
// exception must not unwind through it. The callback longjmps back to the C-only frame below,
// which holds nothing with a destructor.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr info) {
  auto* err = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (e.g. "Premature end of JPEG file") mean damaged data: keep the first as the message;
// decode_jpeg_rgb turns any warning into an error.
void on_message(j_common_ptr info, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(info->err);
  if (level < 0 && info->err->num_warnings++ == 0)
    (*info->err->format_message)(info, err->message);
}

enum class DecodeStatus { kOk, kLibjpegError, kWarning, kWrongSize };

// Decodes into hwc (height * width * 3 bytes). Only plain data in this frame, see ErrorManager.
DecodeStatus decode_hwc(const unsigned char* data, unsigned long size, int height, int width,
                        unsigned char* hwc, ErrorManager* err, int* got_height, int* got_width) {
  jpeg_decompress_struct info;
  info.err = jpeg_std_error(&err->base);
  err->base.error_exit = on_error;
  err->base.emit_message = on_message;
  err->message[0] = '\0';
  if (setjmp(err->jump)) {
    jpeg_destroy_decompress(&info);
    return DecodeStatus::kLibjpegError;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, size);
  jpeg_read_header(&info, TRUE);
  *got_height = static_cast<int>(info.image_height);
  *got_width = static_cast<int>(info.image_width);
  if (*got_height != height || *got_width != width) {
    jpeg_destroy_decompress(&info);
    return DecodeStatus::kWrongSize;
  }
  info.out_color_space = JCS_RGB;
  jpeg_start_decompress(&info);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = hwc + static_cast<size_t>(info.output_scanline) * static_cast<size_t>(width) * 3;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  const bool warned = err->base.num_warnings > 0;
  jpeg_destroy_decompress(&info);
  return warned ? DecodeStatus::kWarning : DecodeStatus::kOk;
}

struct CompressTarget {
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
};

bool encode_hwc(const unsigned char* hwc, int height, int width, int quality, ErrorManager* err,
                CompressTarget* out) {
  jpeg_compress_struct info;
  info.err = jpeg_std_error(&err->base);
  err->base.error_exit = on_error;
  if (setjmp(err->jump)) {
    jpeg_destroy_compress(&info);
    return false;
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, &out->buffer, &out->size);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<unsigned char*>(hwc) +
                   static_cast<size_t>(info.next_scanline) * static_cast<size_t>(width) * 3;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  return true;
}

}  // namespace

void decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, int height, int width,
                     std::uint8_t* out_chw, const std::string& what) {
  NBZ_ASSERT(height > 0 && width > 0, "JPEG size must be positive");
  const size_t plane = static_cast<size_t>(height) * static_cast<size_t>(width);
  std::vector<unsigned char> hwc(plane * 3);
  ErrorManager err;
  int got_height = 0, got_width = 0;
  const DecodeStatus status = decode_hwc(data, static_cast<unsigned long>(size), height, width,
                                         hwc.data(), &err, &got_height, &got_width);
  switch (status) {
    case DecodeStatus::kOk: break;
    case DecodeStatus::kLibjpegError:
      throw Error("cannot decode JPEG " + what + ": " + err.message);
    case DecodeStatus::kWarning:
      throw Error("damaged JPEG " + what + ": " + err.message);
    case DecodeStatus::kWrongSize:
      throw Error("JPEG " + what + " is " + std::to_string(got_width) + " x " +
                  std::to_string(got_height) + " px, expected " + std::to_string(width) + " x " +
                  std::to_string(height));
  }
  for (size_t p = 0; p < plane; ++p)
    for (size_t c = 0; c < 3; ++c) out_chw[c * plane + p] = hwc[p * 3 + c];
}

std::string encode_jpeg_rgb(const std::uint8_t* chw, int height, int width, int quality) {
  NBZ_ASSERT(height > 0 && width > 0 && quality >= 1 && quality <= 100, "bad JPEG parameters");
  const size_t plane = static_cast<size_t>(height) * static_cast<size_t>(width);
  std::vector<unsigned char> hwc(plane * 3);
  for (size_t p = 0; p < plane; ++p)
    for (size_t c = 0; c < 3; ++c) hwc[p * 3 + c] = chw[c * plane + p];
  ErrorManager err;
  CompressTarget target;
  const bool ok = encode_hwc(hwc.data(), height, width, quality, &err, &target);
  std::string out;
  if (ok) out.assign(reinterpret_cast<const char*>(target.buffer), target.size);
  std::free(target.buffer);  // jpeg_mem_dest allocates with malloc
  NBZ_ASSERT(ok, std::string("libjpeg failed to encode: ") + err.message);
  return out;
}

std::string jpeg_library_version() {
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
  const int v = LIBJPEG_TURBO_VERSION_NUMBER;
  return "libjpeg-turbo " + std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) +
         "." + std::to_string(v % 1000) + " (API " + std::to_string(JPEG_LIB_VERSION) + ")";
#else
  return "libjpeg (API " + std::to_string(JPEG_LIB_VERSION) + ")";
#endif
}

}  // namespace nbz
