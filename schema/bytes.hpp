// Conversions between Cap'n Proto's Data/Text and the strings parley passes
// around (std::string holds bytes as well as text).
#pragma once

#include <capnp/blob.h>

#include <string>
#include <string_view>

namespace parley {

inline std::string to_string(capnp::Data::Reader x) {
  return {reinterpret_cast<const char*>(x.begin()), x.size()};
}

inline std::string to_string(capnp::Text::Reader x) {
  return {x.cStr(), x.size()};
}

inline std::string_view view(capnp::Data::Reader x) {
  return {reinterpret_cast<const char*>(x.begin()), x.size()};
}

/// For setting a Data field from bytes held in a string.
inline capnp::Data::Reader as_data(std::string_view x) {
  return {reinterpret_cast<const kj::byte*>(x.data()), x.size()};
}

/// For setting a Text field from a string_view.
inline capnp::Text::Reader as_text(std::string_view x) {
  return {x.data(), x.size()};
}

} // namespace parley
