// Internal to the e2e library: writing and reading its Cap'n Proto records
// without leaving secrets behind in the scratch memory, and never letting a
// kj::Exception out.
#pragma once

#include "schema/bytes.hpp"
#include "tools/client/e2e/result.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace parley::e2e::detail {

/// A record without secrets in Cap'n Proto's flat (unpacked, one-message) format.
inline std::string to_bytes(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto chars = words.asChars();
  return std::string(chars.begin(), chars.size());
}

/// A message builder whose memory is zeroed when it dies. `words` should cover
/// the whole record: segments beyond the first are malloc'ed by Cap'n Proto and
/// not wiped.
class wiped_builder {
public:
  explicit wiped_builder(size_t words)
    : scratch_(words), builder_(kj::arrayPtr(scratch_.data(), scratch_.size())) {
    // nop
  }
  ~wiped_builder() {
    // The builder, destroyed after this, only zeroes what it used of scratch_.
    sodium_memzero(scratch_.data(), scratch_.size() * sizeof(capnp::word));
  }
  wiped_builder(const wiped_builder&) = delete;
  wiped_builder& operator=(const wiped_builder&) = delete;

  capnp::MessageBuilder& get() {
    return builder_;
  }

  /// The record in Cap'n Proto's flat (unpacked, one-message) format.
  std::string bytes() {
    auto words = capnp::messageToFlatArray(builder_);
    auto chars = words.asChars();
    std::string out(chars.begin(), chars.size());
    sodium_memzero(words.begin(), words.size() * sizeof(capnp::word));
    return out;
  }

private:
  std::vector<capnp::word> scratch_;  // zero-initialised, as Cap'n Proto requires
  capnp::MallocMessageBuilder builder_;  // declared after scratch_, which it uses
};

/// Runs `read` on the root of a flat Cap'n Proto record; malformed if the bytes
/// are not one, or if `read` finds it wrong. `read` returns a result<T>.
template <class Root, class F>
auto read_record(std::string_view bytes, F read)
  -> decltype(read(std::declval<typename Root::Reader>())) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0)
    return error::malformed;
  // Cap'n Proto reads from 8-byte aligned memory; a string's bytes may not be.
  std::vector<capnp::word> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), bytes.size());
  auto wipe = [&] {
    sodium_memzero(words.data(), words.size() * sizeof(capnp::word));
  };
  try {
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.data(), words.size()));
    auto out = read(reader.getRoot<Root>());
    wipe();
    return out;
  } catch (const kj::Exception&) {
    wipe();
    return error::malformed;
  }
}

} // namespace parley::e2e::detail
