// Server frames, appended to a connection's write buffer in stream framing.
#pragma once

#include "actors/call/call_messages.hpp"
#include "actors/call/turn.hpp"
#include "actors/group/group_messages.hpp"
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

/// GroupState (the raw id is taken from the state's hex id).
void group(buffer& out, const group_state& g);

/// The sent tick of a group message: a Receipt with `group` set and no peer.
void group_sent(buffer& out, std::string_view id, std::string_view group_raw,
                int64_t time);

void message_info(buffer& out, std::string_view group_raw, std::string_view id,
                  const parley::message_info& info);

/// A CallSignal from `s.from`.
void call(buffer& out, const call_signal& s);

void turn(buffer& out, const turn_credentials& c);

} // namespace parley::outgoing
