// Errors of the end-to-end encryption library, as values: every call that can fail
// returns a result holding either its value or the reason it failed.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace parley::e2e {

/// Why an operation failed. Stable: add, never renumber.
enum class error : uint8_t {
  malformed = 1,        ///< bytes that are not the record or envelope expected
  unsupported_version,  ///< a record or envelope of a version this code does not speak
  bad_key,              ///< a key of the wrong size, or one that yields no usable DH
  bad_signature,        ///< a bundle whose signed prekey does not verify
  wrong_prekey,         ///< a prekey message for prekeys other than those given
  not_this_session,     ///< a prekey message from another X3DH run than this session's
  too_far_ahead,        ///< decrypting would skip more than max_skip message keys
  decrypt_failed,       ///< authentication failed: tampered, replayed, or not ours
  exhausted,            ///< a message counter would overflow
  cannot_send,          ///< no sending chain yet: a responder before any message
};

/// The error's name, e.g. "bad_signature".
std::string_view to_string(error x) noexcept;

/// A value, or the error that prevented it. Access the value only when the
/// result converts to true.
template <class T>
class result {
public:
  result(T value) : value_(std::move(value)) {}
  result(error why) : value_(why) {}

  explicit operator bool() const noexcept {
    return std::holds_alternative<T>(value_);
  }

  T& operator*() & {
    return *std::get_if<T>(&value_);
  }
  const T& operator*() const& {
    return *std::get_if<T>(&value_);
  }
  T&& operator*() && {
    return std::move(*std::get_if<T>(&value_));
  }
  T* operator->() {
    return std::get_if<T>(&value_);
  }
  const T* operator->() const {
    return std::get_if<T>(&value_);
  }

  /// The error; meaningful only when the result holds no value.
  error failure() const noexcept {
    auto why = std::get_if<error>(&value_);
    return why != nullptr ? *why : error{};
  }

private:
  std::variant<T, error> value_;
};

/// For operations that produce nothing but may fail.
struct ok {};

} // namespace parley::e2e
