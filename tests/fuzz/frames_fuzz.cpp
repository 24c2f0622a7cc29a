// libFuzzer target: arbitrary bytes through what a session does with client
// input, the frame reader (fed in chunks whose size the input chooses) and the
// request parser, checking that whatever the parser accepts obeys the rules.
//
// Build: cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DPARLEY_FUZZ=ON
// Run:   build-fuzz/parley-fuzz-frames -max_total_time=60 CORPUS_DIR

#include "actors/session/requests.hpp"
#include "schema/frame.hpp"
#include "schema/rules.hpp"

#include <sodium.h>

#include <cstdint>
#include <cstdlib>

namespace {

using namespace parley;

constexpr size_t max_frame = 8192;
constexpr size_t max_payload = 4096;

void require(bool ok) {
  if (!ok)
    std::abort();  // the fuzzer reports it with the input
}

void check(const request& req) {
  if (auto r = std::get_if<register_request>(&req)) {
    require(valid_user_name(r->user));
    require(r->identity_key.size() == identity_key_bytes);
  } else if (auto r = std::get_if<login_request>(&req)) {
    require(valid_user_name(r->user));
  } else if (auto r = std::get_if<prove_request>(&req)) {
    require(r->signature.size() == signature_bytes);
  } else if (auto r = std::get_if<send_request>(&req)) {
    require(r->id.size() == message_id_bytes);
    require(valid_user_name(r->to));
    require(r->payload.size() <= max_payload);
  } else if (auto r = std::get_if<ack_request>(&req)) {
    require(valid_user_name(r->peer));
    for (auto& id : r->ids)
      require(id.size() == message_id_bytes);
  } else if (auto r = std::get_if<last_seen_request>(&req)) {
    require(valid_user_name(r->user));
  } else if (auto r = std::get_if<watch_request>(&req)) {
    for (auto& user : r->users)
      require(valid_user_name(user));
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return sodium_init() < 0 ? 1 : 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  size_t chunk = 1 + data[0] % 97;  // how the stream is cut into reads
  ++data;
  --size;
  frame_reader reader(max_frame);
  request_limits limits{max_payload};
  for (size_t off = 0; off < size; off += chunk) {
    reader.feed(data + off, std::min(chunk, size - off));
    while (auto frame = reader.next()) {
      require(frame->size() * sizeof(capnp::word) <= max_frame);
      check(parse_request(*frame, limits));
    }
    if (reader.error() != frame_error::none)
      break;
  }
  return 0;
}
