// How parley-chat shows what happens: a line of text per event, or with --json one
// JSON object per line.
#pragma once

#include "tools/client/client.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/media_ref.hpp"
#include "tools/client/reconnecting_client.hpp"

#include <string>

namespace parley::chat {

class printer {
public:
  explicit printer(bool json) : json_(json) {}

  void print(const client::event& e);
  void print(const client::message& m);
  void print(const client::receipt& r);
  void print(const client::presence& p);
  void print(const client::server_error& e);
  void print(const client::failure& f);

  /// The link to the node came or went: a line on stderr, or a
  /// {"type":"link"} object in JSON.
  void print(const client::link_up& up);
  void print(const client::link_down& down);

  /// A message waiting in the outbox: {"type":"queued"} in JSON.
  void queued(const client::stored_message& m);

  /// A message of a conversation with its tick, `self` being this user:
  /// {"type":"history"} in JSON.
  void history(const client::stored_message& m, const std::string& self);

  /// A file fetched (or sent): {"type":"fetched"} or {"type":"uploaded"} in JSON.
  void media_done(const char* what, const client::media_ref& ref, const std::string& path,
                  uint64_t resumed_at);

  /// A note for people (e.g. "registered alice"); a {"type":"info"} line in JSON.
  void info(const std::string& text);

  /// Something the user should act on, about `peer` (e.g. identityChanged).
  void warning(const std::string& code, const std::string& peer, const std::string& text);

  void safety_number(const std::string& peer, const std::string& digits);

  /// The node asked for more prekeys: nothing to show.
  void print(const client::prekeys_low&) {}

  /// A change of one of our groups: {"type":"group"} in JSON.
  void print(const client::group_notice& n);

  /// A call signal (its payload opened): {"type":"call"} in JSON.
  void print(const client::call_event& c);

  /// A group as its home node holds it: {"type":"groupInfo"} in JSON.
  void print(const client::group_info& g);

  /// Each recipient's state of a group message: {"type":"recipient"} per
  /// recipient in JSON, then {"type":"messageInfo"} with the aggregate.
  void print(const client::message_info& m, const std::string& aggregate);

  /// TURN credentials: {"type":"turn"} in JSON.
  void print(const client::turn_info& t);

  /// A call of ours changed (placed, ended by us): {"type":"call"} in JSON.
  void call(const std::string& call, const std::string& peer, const std::string& what,
            const std::string& data = {});

private:
  bool json_;
};

/// How a media message's id shows for people (16 hex digits of its SHA-256):
/// `fetch` takes it, or any other unique prefix of the id.
std::string media_id_text(const client::media_ref& ref);

/// `text` as a JSON string literal, quotes included.
std::string json_string(const std::string& text);

/// "sent", "delivered" or "read".
const char* state_name(wire::ReceiptState state);

/// "offer", "ringing", "answer", "ice", "accept", "reject", "busy", "hangup",
/// "timeout".
const char* kind_name(wire::CallSignalKind kind);

/// "created", "added", "removed", "left", "promoted".
const char* action_name(wire::GroupAction action);

} // namespace parley::chat
