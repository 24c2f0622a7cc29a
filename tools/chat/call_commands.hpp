// parley-chat's call commands and the TURN credentials command. A call here is
// signalling only (offer, ringing, answer, ICE, accept, reject, busy, hangup,
// timeout), each payload sealed for the other party; the media itself would go
// through the TURN relay whose credentials `turn-credentials` prints.
#pragma once

#include "tools/chat/commands.hpp"
#include "tools/client/reconnecting_client.hpp"

#include <optional>
#include <string>

namespace parley::chat {

/// What `listen` does with an incoming call.
enum class call_policy {
  ignore,  ///< print its signals only
  answer,  ///< ringing, answer (an SDP answer) and accept
  reject,  ///< ringing, then reject
  busy,    ///< busy at once
};

/// "ignore", "answer", "reject", "busy"; nothing otherwise.
std::optional<call_policy> parse_call_policy(const std::string& text);

/// One call at a time on this device: the call in progress, placed or taken,
/// and what a policy answers to incoming offers. An offer while a call is in
/// progress gets busy (unless the policy ignores calls).
class call_desk {
public:
  call_desk(context& ctx, call_policy policy) : ctx_(ctx), policy_(policy) {}

  /// Offers a call to `peer` with `data` (a stand-in for an SDP offer).
  bool place(client::reconnecting_client& c, const std::string& peer,
             const std::string& data);

  /// Takes the call on offer (answer, then accept).
  bool answer(client::reconnecting_client& c);
  bool reject(client::reconnecting_client& c);
  bool hangup(client::reconnecting_client& c);

  /// Prints a signal that arrived and acts on it.
  void on(client::reconnecting_client& c, const client::call_event& e);

  bool in_call() const noexcept {
    return !call_.empty();
  }
  /// Whether the call in progress was accepted.
  bool accepted() const noexcept {
    return accepted_;
  }
  /// How the last call ended ("hangup", "reject", ...), empty while one runs.
  const std::string& ended() const noexcept {
    return ended_;
  }

private:
  bool signal(client::reconnecting_client& c, wire::CallSignalKind kind,
              const std::string& data = {});
  void end(const std::string& why);

  context& ctx_;
  call_policy policy_;
  std::string call_;  // 16 bytes, while a call is in progress
  std::string peer_;
  bool caller_ = false;
  bool accepted_ = false;
  std::string ended_;
};

/// Calls `peer` and prints the signals until the call ends; hangs up
/// `hangup_after` seconds after it was accepted (never, without), gives up
/// after `timeout` seconds. Exits 0 if the call was accepted, 1 if not
/// (rejected, busy, unanswered) or on failure.
int run_call(context& ctx, const std::string& peer, const std::string& data,
             std::optional<double> hangup_after, double timeout);

/// Prints TURN credentials from the node.
int run_turn_credentials(context& ctx);

} // namespace parley::chat
