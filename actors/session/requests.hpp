// What a client asks for, decoded from a frame and checked against the
// protocol's rules, without any state: the session decides what to do with it.
// parse_request never throws; whatever is wrong with a frame comes back as a
// bad_request saying which error to answer and whether to close.
#pragma once

#include "actors/store/records.hpp"
#include "schema/protocol.capnp.h"

#include <capnp/common.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace parley {

struct register_request {
  std::string user;
  std::string identity_key;
};

struct login_request {
  std::string user;
};

struct prove_request {
  std::string signature;
};

struct send_request {
  std::string id;
  std::string to;
  std::string payload;
};

struct ack_request {
  std::string peer;
  std::vector<std::string> ids;
  message_state state = message_state::delivered;
};

struct ack_receipts_request {
  std::vector<uint64_t> seqs;
};

struct heartbeat_request {};

struct last_seen_request {
  std::string user;
};

struct logout_request {};

struct watch_request {
  std::vector<std::string> users;
};

struct publish_keys_request {
  std::string signed_prekey;  // empty: keep the current one
  std::vector<std::string> one_time_prekeys;
};

struct fetch_bundle_request {
  std::string user;
};

/// A token for the media service (an upload names its size and recipients).
struct media_token_request {
  wire::MediaAction action = wire::MediaAction::DOWNLOAD;
  std::string sha256;  // 32 bytes
  uint64_t size = 0;
  std::vector<std::string> recipients;
};

/// A GroupRequest (group: the raw 16-byte id).
struct group_frame_request {
  std::string group;
  group_op op = group_op::query;
  std::string name;                  // create
  std::vector<std::string> members;  // create, add, remove, promote
};

struct group_send_request {
  std::string id;
  std::string group;  // raw 16-byte id
  uint64_t epoch = 0;
  std::string payload;
};

struct message_info_request {
  std::string group;  // raw 16-byte id
  std::string id;
};

struct call_request {
  std::string call;  // raw 16-byte id
  std::string peer;
  uint8_t kind = 0;  // wire::CallSignalKind, never timeout
  std::string payload;
};

struct turn_request {};

/// A frame that cannot be served: answer `code`, then close if `close`.
struct bad_request {
  wire::ErrorCode code = wire::ErrorCode::MALFORMED_FRAME;
  std::string message;
  std::string refers_to;
  bool close = false;
};

using request = std::variant<register_request, login_request, prove_request,
                             send_request, ack_request, ack_receipts_request,
                             heartbeat_request, last_seen_request, logout_request,
                             watch_request, publish_keys_request,
                             fetch_bundle_request, media_token_request, group_frame_request,
                             group_send_request, message_info_request, call_request,
                             turn_request, bad_request>;

struct request_limits {
  size_t max_payload = 64 * 1024;
};

/// The largest prekey record the node keeps (they are small public keys with a
/// signature and an id; the cap keeps the directory from becoming storage).
constexpr size_t max_prekey_record = 512;

/// A group's name: 1 to this many bytes.
constexpr size_t max_group_name = 64;

/// Decodes one whole frame (as frame_reader hands it out).
request parse_request(kj::ArrayPtr<const capnp::word> frame, const request_limits& limits);

} // namespace parley
