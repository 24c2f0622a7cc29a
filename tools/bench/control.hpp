// The line protocol between the coordinating process and its load-generating
// workers, over a socketpair each.
//
//   worker -> coordinator:  "arrive <phase> <report>"   reached a barrier
//                           "progress <report counts>"  once a second
//                           "result <report>"           the end
//                           "fail <why>"                gave up
//   coordinator -> worker:  "go <phase> <args...>"      leave the barrier
//                           "abort"                     stop now
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::bench {

/// One end of a control socket. Lines are short and rare: writes block.
class control_channel {
public:
  control_channel() = default;
  explicit control_channel(int fd) : fd_(fd) {}
  ~control_channel();

  control_channel(const control_channel&) = delete;
  control_channel& operator=(const control_channel&) = delete;
  control_channel(control_channel&& other) noexcept;
  control_channel& operator=(control_channel&& other) noexcept;

  int fd() const noexcept {
    return fd_;
  }

  /// Writes `line` and a newline; false if the peer is gone.
  bool send(std::string_view line);

  /// Reads what the socket holds without blocking; false once the peer has
  /// closed (lines already buffered can still be taken).
  bool receive();

  /// The next complete line buffered, without its newline.
  std::optional<std::string> next_line();

private:
  int fd_ = -1;
  std::string buffer_;
};

/// The first word of `line`, and the rest after one space.
std::pair<std::string_view, std::string_view> split_word(std::string_view line);

} // namespace parley::bench
