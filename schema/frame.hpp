// Cap'n Proto stream framing over a byte stream, shared by the node and clients.
//
// frame_reader collects bytes as they arrive and hands out one complete frame at
// a time, parsed in place. It refuses a frame from its header alone when the
// header announces more than the limit, before any of its body is buffered.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace parley {

/// Why frame_reader stopped accepting input.
enum class frame_error : uint8_t {
  none,
  too_large,  ///< the segment table announces a frame over the limit
  malformed,  ///< the segment table is invalid
};

/// Reassembles frames from a byte stream. Single-threaded; not copyable.
class frame_reader {
public:
  explicit frame_reader(size_t max_frame_bytes);

  frame_reader(const frame_reader&) = delete;
  frame_reader& operator=(const frame_reader&) = delete;

  /// Appends received bytes.
  void feed(const void* data, size_t size);

  /// If a whole frame is buffered, returns its words (8-byte aligned, valid
  /// until the next call of `next` or `feed`). Returns nothing when more bytes
  /// are needed or when the stream is broken (see `error`).
  std::optional<kj::ArrayPtr<const capnp::word>> next();

  frame_error error() const noexcept {
    return error_;
  }

  /// Bytes held but not yet handed out.
  size_t buffered() const noexcept {
    return end_ - begin_;
  }

  /// Bytes of buffer kept, whether used or not.
  size_t capacity() const noexcept {
    return words_.size() * sizeof(uint64_t);
  }

  /// Gives the buffer back if it holds nothing, not even the frame handed out
  /// last: for a connection about to go quiet.
  void release_if_empty();

private:
  void compact();

  // 32 bits, next to error_: a session keeps its reader 8 B smaller, and a
  // frame over 4 GiB is refused anyway.
  uint32_t max_frame_bytes_;
  frame_error error_ = frame_error::none;
  // 64-bit elements so frames are 8-byte aligned (capnp::word itself cannot
  // live in a std::vector: clang's libstdc++ checks want it movable).
  std::vector<uint64_t> words_;
  size_t begin_ = 0;                // byte offsets into words_
  size_t end_ = 0;
  size_t consumed_ = 0;             // bytes of the frame handed out by next()
};

/// Reader limits for a frame: traversal bounded by the frame's own size.
capnp::ReaderOptions reader_options(size_t frame_words);

/// Appends `message` in stream framing to `out`.
void append_frame(capnp::MessageBuilder& message, std::vector<char>& out);

} // namespace parley
