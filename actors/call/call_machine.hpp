// The state machine of one call, apart from any actor so that it can be tested
// on its own (tests/unit/call_machine_test.cpp).
//
//   idle ──offer(caller)──▶ offered ──ringing(callee)──▶ ringing
//   offered, ringing ──accept(callee)──▶ active
//   offered, ringing ──reject, busy (callee); hangup (either); timeout (node)──▶ ended
//   active ──hangup (either)──▶ ended
//
// Within a phase: answer (callee) in offered, ringing and active; ice (either)
// in offered, ringing and active. Everything else is refused and changes
// nothing: a second offer, ringing twice, accepting an active call, any signal
// after the end, a caller's ringing or accept, a timeout from a party.
#pragma once

#include "schema/protocol.capnp.h"

#include <cstdint>

namespace parley {

class call_machine {
public:
  enum class phase : uint8_t { idle, offered, ringing, active, ended };

  /// Who sends a signal: the node only sends timeout.
  enum class party : uint8_t { caller, callee, node };

  /// Applies `kind` sent by `who`. Returns false, changing nothing, if the
  /// current phase does not allow it.
  bool apply(party who, wire::CallSignalKind kind) noexcept;

  phase current() const noexcept {
    return phase_;
  }

  /// Offered or ringing: nobody has accepted yet (the timeout applies).
  bool unanswered() const noexcept {
    return phase_ == phase::offered || phase_ == phase::ringing;
  }

  bool ended() const noexcept {
    return phase_ == phase::ended;
  }

  /// The signal that ended it (hangup, reject, busy, timeout), if it ended.
  wire::CallSignalKind end_reason() const noexcept {
    return end_reason_;
  }

private:
  phase phase_ = phase::idle;
  wire::CallSignalKind end_reason_ = wire::CallSignalKind::HANGUP;
};

/// "idle", "offered", "ringing", "active", "ended".
const char* to_string(call_machine::phase x) noexcept;

} // namespace parley
