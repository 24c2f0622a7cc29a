#include "actors/call/call_machine.hpp"

namespace parley {

bool call_machine::apply(party who, wire::CallSignalKind kind) noexcept {
  using kinds = wire::CallSignalKind;
  bool caller = who == party::caller;
  bool callee = who == party::callee;
  bool node = who == party::node;
  auto end = [this](kinds why) {
    phase_ = phase::ended;
    end_reason_ = why;
    return true;
  };
  if (node != (kind == kinds::TIMEOUT))
    return false;  // only the node times out, and it sends nothing else
  switch (phase_) {
    case phase::idle:
      if (caller && kind == kinds::OFFER) {
        phase_ = phase::offered;
        return true;
      }
      return false;
    case phase::offered:
    case phase::ringing:
      switch (kind) {
        case kinds::RINGING:
          if (!callee || phase_ == phase::ringing)
            return false;
          phase_ = phase::ringing;
          return true;
        case kinds::ANSWER:
          return callee;
        case kinds::ICE:
          return true;
        case kinds::ACCEPT:
          if (!callee)
            return false;
          phase_ = phase::active;
          return true;
        case kinds::REJECT:
        case kinds::BUSY:
          return callee && end(kind);
        case kinds::HANGUP:
        case kinds::TIMEOUT:
          return end(kind);
        case kinds::OFFER:
          return false;
      }
      return false;
    case phase::active:
      switch (kind) {
        case kinds::ANSWER:
          return callee;
        case kinds::ICE:
          return true;
        case kinds::HANGUP:
          return end(kind);
        default:
          return false;
      }
    case phase::ended:
      return false;
  }
  return false;
}

const char* to_string(call_machine::phase x) noexcept {
  switch (x) {
    case call_machine::phase::idle:
      return "idle";
    case call_machine::phase::offered:
      return "offered";
    case call_machine::phase::ringing:
      return "ringing";
    case call_machine::phase::active:
      return "active";
    case call_machine::phase::ended:
      return "ended";
  }
  return "unknown";
}

} // namespace parley
