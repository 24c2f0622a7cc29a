// Frames are Cap'n Proto's standard stream framing: capnp's own tool reads what
// a node and a client write.

#include "actors/session/outgoing.hpp"
#include "schema/bytes.hpp"
#include "schema/frame.hpp"
#include "support/commands.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <capnp/message.h>

#include <fstream>

using namespace parley;

namespace {

std::string capnp_decode(const std::string& type, const std::vector<char>& frame,
                         const test::temp_dir& dir) {
  auto path = dir / "frame.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(frame.data(), static_cast<std::streamsize>(frame.size()));
  }
  auto cmd = "capnp decode " + std::string(PARLEY_SOURCE_DIR) + "/schema/protocol.capnp "
             + type + " < " + path + " 2>&1";
  auto decoded = test::run_command(cmd);
  REQUIRE(decoded.exit_code == 0);
  return decoded.out;
}

} // namespace

TEST_CASE("capnp decode reads a client's Send frame") {
  test::temp_dir dir;
  capnp::MallocMessageBuilder message;
  auto send = message.initRoot<wire::ClientFrame>().initSend();
  send.setId(as_data(std::string(16, 'A')));
  send.setTo("bob");
  send.setPayload(as_data("hello bob"));
  std::vector<char> frame;
  append_frame(message, frame);
  auto text = capnp_decode("ClientFrame", frame, dir);
  INFO(text);
  CHECK(text.find("to = \"bob\"") != std::string::npos);
  CHECK(text.find("hello bob") != std::string::npos);
}

TEST_CASE("capnp decode reads a node's receipt and error frames") {
  test::temp_dir dir;
  std::vector<char> frame;
  outgoing::sent(frame, std::string(16, 'B'), "alice", 1234);
  auto text = capnp_decode("ServerFrame", frame, dir);
  INFO(text);
  CHECK(text.find("peer = \"alice\"") != std::string::npos);
  CHECK(text.find("state = sent") != std::string::npos);
  frame.clear();
  outgoing::error(frame, wire::ErrorCode::RATE_LIMITED, "wait", {}, 250);
  text = capnp_decode("ServerFrame", frame, dir);
  CHECK(text.find("code = rateLimited") != std::string::npos);
  CHECK(text.find("retryAfterMs = 250") != std::string::npos);
}
