// The bench's side of the wire: client frames encoded straight into a
// connection's output buffer, and the stamp every bench message carries.
//
// A payload starts with a stamp: who sent it to whom, its sequence in that
// sender->recipient stream, and when it was written (CLOCK_MONOTONIC ns, so any
// process on the machine can compute its latency). The 16-byte message id says
// which run and which sender it belongs to and repeats the sequence, so a
// receipt alone names its message. Both carry the run's code: messages and
// receipts left over from another run are recognised and set aside.
#pragma once

#include <capnp/common.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace parley::bench {

using out_buffer = std::vector<char>;
using message_id = std::array<unsigned char, 16>;

/// What a payload's first bytes say (native byte order: sender and recipient
/// run on the same machine).
struct stamp {
  uint32_t run_code = 0;
  uint32_t sender = 0;     // user index
  uint32_t recipient = 0;  // user index
  uint64_t seq = 0;        // 1, 2, ... per sender -> recipient
  int64_t sent_ns = 0;
};

constexpr size_t stamp_bytes = 32;

/// Writes `s` into the first stamp_bytes of `payload`, filler after it.
void write_stamp(const stamp& s, unsigned char* payload, size_t size);

/// The stamp at the front of `payload`, if it is long enough to hold one.
std::optional<stamp> read_stamp(std::string_view payload);

message_id make_id(uint32_t run_code, uint32_t sender, uint64_t seq);

/// What a bench message id says: (run code, sender, seq).
struct id_parts {
  uint32_t run_code = 0;
  uint32_t sender = 0;
  uint64_t seq = 0;
};

std::optional<id_parts> read_id(std::string_view id);

/// Encodes client frames in stream framing. One per process: it owns the zeroed
/// first segment every frame is built in, which spares a malloc per frame.
class encoder {
public:
  encoder();

  encoder(const encoder&) = delete;
  encoder& operator=(const encoder&) = delete;

  void register_user(out_buffer& out, std::string_view user,
                     std::string_view public_key);
  void login(out_buffer& out, std::string_view user);
  void prove(out_buffer& out, std::string_view signature);
  void send(out_buffer& out, const message_id& id, std::string_view to,
            std::string_view payload);
  /// Acknowledges `ids` from `peer` as delivered.
  void ack(out_buffer& out, std::string_view peer, const std::vector<message_id>& ids);
  void ack_receipts(out_buffer& out, const std::vector<uint64_t>& seqs);
  void heartbeat(out_buffer& out);

private:
  template <class Fill>
  void write(out_buffer& out, Fill fill);

  std::vector<capnp::word> scratch_;
};

} // namespace parley::bench
