#pragma once

// Text from other people, made safe to print on a terminal: control, C1 and
// bidirectional characters are shown as visible escapes instead of acting on
// the screen. No CAF: the shell, the web console and the tests share it.

#include <cstdint>
#include <string>

namespace cafchat {

/// True for a code point that moves the cursor, rings, or changes the text
/// direction when printed: C0, DEL, C1, and the bidirectional controls
/// (U+061C, U+200E-F, U+2028-202E, U+2066-2069).
bool is_control(uint32_t cp);

/// The length of the well-formed UTF-8 sequence at s[i] (1 to 4) and its
/// code point, or 0 if there is none there (overlong forms, surrogates and
/// code points above U+10FFFF are not well-formed).
size_t utf8_decode(const std::string& s, size_t i, uint32_t& cp);

/// `s` as a terminal may print it: C0 controls and DEL as `\xHH` (ESC is
/// `\x1b`, CR `\x0d`), C1 and bidirectional controls as `<U+XXXX>` (U+202E
/// is `<U+202E>`), and bytes that are not UTF-8 as `\xHH`. Everything else
/// is kept as it is. With `keep_newlines`, '\n' stays a line break (for the
/// shell's own multi-line output, never for what others wrote).
std::string terminal_safe(const std::string& s, bool keep_newlines = false);

} // namespace cafchat
