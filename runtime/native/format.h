#pragma once
// printf-style formatting for the image (its vsnprintf): flags, width,
// precision, the length modifiers hh h l ll z j t, and d i u o x X c s p f %.
// Returns the length the full text needs, as vsnprintf does.

#include <cstdarg>
#include <cstddef>

namespace ebb::native {

int format(char* out, std::size_t size, const char* format, va_list args);

}  // namespace ebb::native
