#include "schema/frame.hpp"

#include <kj/io.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace parley {

namespace {

constexpr size_t word_bytes = sizeof(capnp::word);
constexpr size_t idle_buffer_words = 512;  // 4 KiB

} // namespace

frame_reader::frame_reader(size_t max_frame_bytes)
  : max_frame_bytes_(static_cast<uint32_t>(
      std::min<size_t>(max_frame_bytes, std::numeric_limits<uint32_t>::max()))) {
  // nop
}

void frame_reader::feed(const void* data, size_t size) {
  if (error_ != frame_error::none || size == 0)
    return;
  begin_ += consumed_;  // the caller is done with the frame handed out last
  consumed_ = 0;
  if (end_ + size > words_.size() * word_bytes) {
    compact();
    auto need = (end_ + size + word_bytes - 1) / word_bytes;
    if (need > words_.size())
      words_.resize(std::max(need, words_.size() * 2));
  }
  std::memcpy(reinterpret_cast<char*>(words_.data()) + end_, data, size);
  end_ += size;
}

std::optional<kj::ArrayPtr<const capnp::word>> frame_reader::next() {
  begin_ += consumed_;
  consumed_ = 0;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    // An idle connection should not keep the buffer of its largest frame.
    if (words_.size() > idle_buffer_words)
      std::vector<uint64_t>().swap(words_);
  }
  if (error_ != frame_error::none)
    return std::nullopt;
  auto avail_words = (end_ - begin_) / word_bytes;
  if (avail_words == 0)
    return std::nullopt;
  // begin_ is always word-aligned: frames are whole words.
  kj::ArrayPtr<const capnp::word> prefix(
    reinterpret_cast<const capnp::word*>(words_.data()) + begin_ / word_bytes,
    avail_words);
  size_t expected = 0;
  try {
    expected = capnp::expectedSizeInWordsFromPrefix(prefix);
  } catch (const kj::Exception&) {
    error_ = frame_error::malformed;
    return std::nullopt;
  }
  if (expected * word_bytes > max_frame_bytes_) {
    error_ = frame_error::too_large;
    return std::nullopt;
  }
  // While the segment table is incomplete, `expected` exceeds what we hold.
  if (expected > avail_words)
    return std::nullopt;
  consumed_ = expected * word_bytes;
  return prefix.slice(0, expected);
}

void frame_reader::release_if_empty() {
  // The frame handed out last lies between begin_ and end_ until the next call.
  if (begin_ != end_)
    return;
  begin_ = end_ = 0;
  std::vector<uint64_t>().swap(words_);
}

void frame_reader::compact() {
  if (begin_ == 0)
    return;
  auto pending = end_ - begin_;
  auto base = reinterpret_cast<char*>(words_.data());
  std::memmove(base, base + begin_, pending);
  begin_ = 0;
  end_ = pending;
}

capnp::ReaderOptions reader_options(size_t frame_words) {
  capnp::ReaderOptions opts;
  // A frame may be read once over: twice its size bounds any honest traversal
  // and stops amplification through shared pointers.
  opts.traversalLimitInWords = frame_words * 2 + 64;
  opts.nestingLimit = 16;
  return opts;
}

void append_frame(capnp::MessageBuilder& message, std::vector<char>& out) {
  auto words = capnp::computeSerializedSizeInWords(message);
  auto offset = out.size();
  out.resize(offset + words * word_bytes);
  kj::ArrayOutputStream stream(
    kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data() + offset),
                 words * word_bytes));
  capnp::writeMessage(stream, message);
}

} // namespace parley
