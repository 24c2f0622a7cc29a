#include "schema/frame.hpp"
#include "schema/protocol.capnp.h"

#include <catch2/catch.hpp>

#include <capnp/message.h>

#include <cstring>

using namespace parley;

namespace {

std::vector<char> heartbeat_frame() {
  capnp::MallocMessageBuilder message;
  message.initRoot<wire::ClientFrame>().setHeartbeat();
  std::vector<char> out;
  append_frame(message, out);
  return out;
}

std::vector<char> send_frame(size_t payload_size) {
  capnp::MallocMessageBuilder message;
  auto send = message.initRoot<wire::ClientFrame>().initSend();
  send.setTo("bob");
  std::string payload(payload_size, 'x');
  send.setPayload(
    kj::arrayPtr(reinterpret_cast<const kj::byte*>(payload.data()), payload.size()));
  std::vector<char> out;
  append_frame(message, out);
  return out;
}

wire::ClientFrame::Which which(kj::ArrayPtr<const capnp::word> words) {
  capnp::FlatArrayMessageReader reader(words, reader_options(words.size()));
  return reader.getRoot<wire::ClientFrame>().which();
}

} // namespace

TEST_CASE("frame_reader hands out frames fed one byte at a time") {
  auto one = heartbeat_frame();
  auto two = send_frame(100);
  std::vector<char> stream(one);
  stream.insert(stream.end(), two.begin(), two.end());
  frame_reader reader(1 << 20);
  std::vector<wire::ClientFrame::Which> seen;
  for (char c : stream) {
    reader.feed(&c, 1);
    while (auto frame = reader.next())
      seen.push_back(which(*frame));
  }
  REQUIRE(reader.error() == frame_error::none);
  REQUIRE(seen == std::vector<wire::ClientFrame::Which>{wire::ClientFrame::HEARTBEAT,
                                                        wire::ClientFrame::SEND});
  REQUIRE(reader.buffered() == 0);
}

TEST_CASE("frame_reader hands out several frames fed at once - then waits for more") {
  auto one = send_frame(10);
  std::vector<char> stream;
  for (int i = 0; i < 3; ++i)
    stream.insert(stream.end(), one.begin(), one.end());
  stream.insert(stream.end(), one.begin(), one.begin() + 5);  // a partial fourth
  frame_reader reader(1 << 20);
  reader.feed(stream.data(), stream.size());
  int frames = 0;
  while (reader.next())
    ++frames;
  REQUIRE(frames == 3);
  REQUIRE(reader.error() == frame_error::none);
  reader.feed(one.data() + 5, one.size() - 5);
  REQUIRE(reader.next());
}

TEST_CASE("frame_reader refuses a frame from its header alone when it is too large") {
  // One segment announced with 1,000,000 words: only the 8-byte header is fed.
  uint32_t header[2] = {0, 1000000};
  frame_reader reader(64 * 1024);
  reader.feed(header, sizeof(header));
  REQUIRE_FALSE(reader.next());
  REQUIRE(reader.error() == frame_error::too_large);
  REQUIRE(reader.buffered() == 8);  // nothing of the body was waited for
}

TEST_CASE("frame_reader refuses an absurd segment count") {
  uint32_t header[2] = {0xFFFFFFF0u, 1};
  frame_reader reader(64 * 1024);
  reader.feed(header, sizeof(header));
  REQUIRE_FALSE(reader.next());
  REQUIRE(reader.error() == frame_error::too_large);
}

TEST_CASE("a frame at the size limit passes and one word more does not") {
  auto frame = send_frame(1000);
  {
    frame_reader reader(frame.size());
    reader.feed(frame.data(), frame.size());
    REQUIRE(reader.next());
  }
  {
    frame_reader reader(frame.size() - 8);
    reader.feed(frame.data(), frame.size());
    REQUIRE_FALSE(reader.next());
    REQUIRE(reader.error() == frame_error::too_large);
  }
}

TEST_CASE("a frame with a pointer out of its segment throws when read - not before") {
  // Segment table: one segment of 2 words. Root pointer: a struct pointer whose
  // offset points far outside the segment.
  uint32_t header[2] = {0, 2};
  uint64_t words[2] = {(uint64_t{1} << 32) | (uint64_t{1000} << 2), 0};
  std::vector<char> bytes(sizeof(header) + sizeof(words));
  std::memcpy(bytes.data(), header, sizeof(header));
  std::memcpy(bytes.data() + sizeof(header), words, sizeof(words));
  frame_reader reader(1 << 20);
  reader.feed(bytes.data(), bytes.size());
  auto frame = reader.next();
  REQUIRE(frame);
  REQUIRE_THROWS_AS(which(*frame), kj::Exception);
}

TEST_CASE("frame_reader gives its buffer back only when it holds nothing") {
  auto frame = send_frame(100);
  frame_reader reader(1 << 20);

  // Half a frame stays, and arrives whole once the rest comes.
  auto half = frame.size() / 2;
  reader.feed(frame.data(), half);
  REQUIRE_FALSE(reader.next());
  reader.release_if_empty();
  CHECK(reader.buffered() == half);
  CHECK(reader.capacity() >= half);
  reader.feed(frame.data() + half, frame.size() - half);
  auto whole = reader.next();
  REQUIRE(whole);

  // The frame handed out stays valid: its words are still the buffer's.
  reader.release_if_empty();
  CHECK(reader.capacity() >= frame.size());
  CHECK(which(*whole) == wire::ClientFrame::SEND);

  // Once it is done with, the buffer goes, and the next frame still reads.
  REQUIRE_FALSE(reader.next());
  reader.release_if_empty();
  CHECK(reader.capacity() == 0);
  reader.feed(frame.data(), frame.size());
  auto again = reader.next();
  REQUIRE(again);
  CHECK(which(*again) == wire::ClientFrame::SEND);
}
