// This user's device as the newer parley-chat commands use it: identity, device
// store, end-to-end codec and a reconnecting client, opened together; each step
// prints why it failed.
#pragma once

#include "tools/chat/commands.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/e2e_codec.hpp"
#include "tools/client/reconnecting_client.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace parley::chat {

class device {
public:
  /// Opens the identity, store and codec; nothing (after printing why) if one
  /// fails. With `receive` false, messages and receipts stay on the node for
  /// `listen`.
  static std::unique_ptr<device> open(context& ctx, bool receive);

  /// Steps until logged in; false (after printing why) if that does not happen
  /// within the request timeout. Updates that come meanwhile are kept.
  bool connect();

  /// Steps once, waiting up to `wait`; prints key-change warnings. Nothing
  /// (after printing why) if the client failed for good.
  std::optional<std::vector<client::update>> step(std::chrono::milliseconds wait);

  const identity& id() const {
    return *id_;
  }
  client::reconnecting_client& client() {
    return *client_;
  }
  client::device_store& store() {
    return *store_;
  }
  /// The connection; only while connected.
  client::connection& link() {
    return *client_->link();
  }

private:
  explicit device(context& ctx) : ctx_(ctx) {}

  context& ctx_;
  std::optional<identity> id_;
  std::unique_ptr<client::device_store> store_;
  std::unique_ptr<client::e2e_codec> codec_;
  std::unique_ptr<client::reconnecting_client> client_;
  std::vector<client::update> early_;  // arrived while connecting
};

/// A group named on the command line: 32 hex digits, "#" allowed before them.
/// The 16-byte id, or nothing (after printing why).
std::optional<std::string> parse_group(context& ctx, const std::string& text);

} // namespace parley::chat
