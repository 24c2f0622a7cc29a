// The messages of calls: a signal on its way from one party's session to the
// call actor, and from there to the other party's session.
//
// Registered in node_config: they cross nodes.
#pragma once

#include "schema/protocol.capnp.h"

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace parley {

using call_atom = caf::atom_constant<caf::atom("call")>;

/// One call signal (wire CallSignal, with both parties named).
struct call_signal {
  std::string call;     // 16 bytes, chosen by the caller
  std::string from;     // who sends it
  std::string to;       // the other party
  uint8_t kind = 0;     // wire::CallSignalKind
  std::string payload;  // end-to-end encrypted; opaque here

  wire::CallSignalKind what() const noexcept {
    return static_cast<wire::CallSignalKind>(kind);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_signal& x) {
  return f(caf::meta::type_name("parley.call_signal"), x.call, x.from, x.to, x.kind,
           x.payload);
}

} // namespace parley
