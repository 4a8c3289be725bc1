#include "actors/common/safe_text.hpp"

#include <cstdio>

namespace cafchat {

bool is_control(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)
         || cp == 0x061C || cp == 0x200E || cp == 0x200F
         || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t utf8_decode(const std::string& s, size_t i, uint32_t& cp) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c >> 5) == 0x6) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c >> 4) == 0xE) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c >> 3) == 0x1E) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size())
    return 0;
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc >> 6) != 0x2)
      return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800)
      || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
      || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

namespace {

void hex_byte(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\x%02x", c);
  out += buf;
}

} // namespace

std::string terminal_safe(const std::string& s, bool keep_newlines) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    auto len = utf8_decode(s, i, cp);
    if (len == 0) {
      hex_byte(out, static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (!is_control(cp) || (keep_newlines && cp == '\n')) {
      out.append(s, i, len);
    } else if (cp < 0x80) {
      hex_byte(out, static_cast<unsigned char>(cp));
    } else {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "<U+%04X>", static_cast<unsigned>(cp));
      out += buf;
    }
    i += len;
  }
  return out;
}

} // namespace cafchat
