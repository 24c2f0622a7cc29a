// Server frames, appended to a connection's write buffer in stream framing.
#pragma once

#include "actors/messages.hpp"

#include <string_view>
#include <vector>

namespace parley::outgoing {

using buffer = std::vector<char>;

void challenge(buffer& out, std::string_view nonce);

void welcome(buffer& out, std::string_view user, int64_t server_time,
             uint32_t heartbeat_seconds, uint32_t max_payload,
             uint32_t max_pending_sends);

void registered(buffer& out, std::string_view user);

/// A Deliver for a message item, a Receipt for a receipt item.
void inbox_entry(buffer& out, const inbox_item& item);

/// The sent tick: the answer to a Send once its recipient's store has it.
void sent(buffer& out, std::string_view id, std::string_view peer, int64_t time);

void presence(buffer& out, const presence_info& info);

void error(buffer& out, wire::ErrorCode code, std::string_view message,
           std::string_view refers_to = {}, uint32_t retry_after_ms = 0);

void pong(buffer& out);

/// KeysPublished, or PrekeysLow when `low`.
void prekeys(buffer& out, uint32_t remaining, bool low, bool has_signed_prekey);

void bundle(buffer& out, const prekey_bundle& b);

/// A token for the media service; `expires` in ms since the epoch.
void media_token(buffer& out, wire::MediaAction action, std::string_view sha256,
                 std::string_view token, int64_t expires, std::string_view url);

} // namespace parley::outgoing
