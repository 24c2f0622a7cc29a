// Calls through a real node: the signalling round trip, signals the state
// machine refuses, busy, calls nobody answers (a short ring timeout), hangups
// and a party that goes away; and signalling sealed end to end between devices.

#include "support/e2e_device.hpp"
#include "support/groups.hpp"
#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;
using kinds = wire::CallSignalKind;
using wire::ErrorCode;

namespace {

/// The next signal of `call` that `conn` gets.
client::call_event signal_of(client::connection& conn, const std::string& call,
                             std::vector<client::event>* others = nullptr) {
  return await_event<client::call_event>(
    conn, [&](const client::call_event& e) { return e.call == call; }, others);
}

/// Sends a signal and expects it to arrive at `to` as sent.
void relays(client::connection& from, const std::string& from_name,
            client::connection& to, const std::string& to_name, const std::string& call,
            kinds kind, const std::string& payload = {}) {
  REQUIRE(from.call(call, to_name, kind, payload));
  auto e = signal_of(to, call);
  CHECK(e.peer == from_name);
  CHECK(e.kind == kind);
  CHECK(e.payload == payload);
}

/// Sends a signal the node must refuse with `code`.
void refused(client::connection& from, const std::string& to_name,
             const std::string& call, kinds kind, ErrorCode code) {
  REQUIRE(from.call(call, to_name, kind, {}));
  auto err = await_event<client::server_error>(
    from, [&](const client::server_error& e) { return e.refers_to == call; });
  CHECK(err.code == code);
}

struct call_node {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.call-ring-timeout=1s"}};
  call_node() {
    node.start();
  }
};

} // namespace

TEST_CASE("calls: the signalling round trip through a node, then a hangup") {
  call_node n;
  auto alice = register_user(n.node, "alice");
  auto bob = register_user(n.node, "bob");
  auto a = login(n.node, alice);
  auto b = login(n.node, bob);
  auto call = new_message_id();
  relays(*a, alice.name, *b, bob.name, call, kinds::OFFER, "offer sdp");
  relays(*b, bob.name, *a, alice.name, call, kinds::RINGING);
  relays(*b, bob.name, *a, alice.name, call, kinds::ANSWER, "answer sdp");
  relays(*a, alice.name, *b, bob.name, call, kinds::ICE, "candidate 1");
  relays(*b, bob.name, *a, alice.name, call, kinds::ICE, "candidate 2");
  relays(*b, bob.name, *a, alice.name, call, kinds::ACCEPT);
  // Accepted calls do not time out: wait past the ring timeout; the next thing
  // bob hears is alice's hangup.
  std::this_thread::sleep_for(1500ms);
  REQUIRE(a->call(call, bob.name, kinds::HANGUP, {}));
  CHECK(signal_of(*b, call).kind == kinds::HANGUP);
  // Over: nothing more is let through.
  refused(*b, alice.name, call, kinds::ICE, ErrorCode::CALL_INVALID);
}

TEST_CASE("calls: signals out of turn, from outsiders, or for no call are refused") {
  call_node n;
  auto alice = register_user(n.node, "alice");
  auto bob = register_user(n.node, "bob");
  auto carol = register_user(n.node, "carol");
  auto a = login(n.node, alice);
  auto b = login(n.node, bob);
  auto cc = login(n.node, carol);
  refused(*b, alice.name, new_message_id(), kinds::ACCEPT, ErrorCode::UNKNOWN_CALL);
  refused(*a, alice.name, new_message_id(), kinds::OFFER, ErrorCode::CALL_INVALID);
  refused(*a, bob.name, new_message_id(), kinds::TIMEOUT, ErrorCode::CALL_INVALID);
  auto call = new_message_id();
  relays(*a, alice.name, *b, bob.name, call, kinds::OFFER, "sdp");
  refused(*a, bob.name, call, kinds::OFFER, ErrorCode::CALL_INVALID);    // again
  refused(*a, bob.name, call, kinds::ACCEPT, ErrorCode::CALL_INVALID);   // caller
  refused(*cc, alice.name, call, kinds::HANGUP, ErrorCode::CALL_INVALID);  // outsider
  relays(*b, bob.name, *a, alice.name, call, kinds::RINGING);
  refused(*b, alice.name, call, kinds::RINGING, ErrorCode::CALL_INVALID);  // twice
  relays(*b, bob.name, *a, alice.name, call, kinds::REJECT);
  refused(*b, alice.name, call, kinds::ACCEPT, ErrorCode::CALL_INVALID);   // too late
}

TEST_CASE("calls: a callee in a call answers busy; the other call goes on") {
  call_node n;
  auto alice = register_user(n.node, "alice");
  auto bob = register_user(n.node, "bob");
  auto carol = register_user(n.node, "carol");
  auto a = login(n.node, alice);
  auto b = login(n.node, bob);
  auto cc = login(n.node, carol);
  auto first = new_message_id();
  relays(*a, alice.name, *b, bob.name, first, kinds::OFFER, "sdp");
  relays(*b, bob.name, *a, alice.name, first, kinds::ACCEPT);
  auto second = new_message_id();
  relays(*cc, carol.name, *b, bob.name, second, kinds::OFFER, "sdp");
  relays(*b, bob.name, *cc, carol.name, second, kinds::BUSY);
  refused(*cc, bob.name, second, kinds::HANGUP, ErrorCode::CALL_INVALID);  // it ended
  relays(*a, alice.name, *b, bob.name, first, kinds::ICE, "still here");
  relays(*b, bob.name, *a, alice.name, first, kinds::HANGUP);
}

TEST_CASE("calls: unanswered calls end with a timeout for both parties") {
  call_node n;
  auto alice = register_user(n.node, "alice");
  auto bob = register_user(n.node, "bob");
  register_user(n.node, "dave");
  auto a = login(n.node, alice);
  auto b = login(n.node, bob);
  auto call = new_message_id();
  relays(*a, alice.name, *b, bob.name, call, kinds::OFFER, "sdp");
  relays(*b, bob.name, *a, alice.name, call, kinds::RINGING);
  auto to_alice = signal_of(*a, call);
  CHECK(to_alice.kind == kinds::TIMEOUT);
  CHECK(to_alice.peer == bob.name);
  auto to_bob = signal_of(*b, call);
  CHECK(to_bob.kind == kinds::TIMEOUT);
  CHECK(to_bob.peer == alice.name);
  refused(*b, alice.name, call, kinds::ACCEPT, ErrorCode::CALL_INVALID);
  // Nobody home at all: the caller hears the timeout.
  auto lonely = new_message_id();
  REQUIRE(a->call(lonely, "dave", kinds::OFFER, "sdp"));
  CHECK(signal_of(*a, lonely).kind == kinds::TIMEOUT);
}

TEST_CASE("calls: a party whose connection ends hangs up") {
  call_node n;
  auto alice = register_user(n.node, "alice");
  auto bob = register_user(n.node, "bob");
  auto a = login(n.node, alice);
  auto b = login(n.node, bob);
  auto call = new_message_id();
  relays(*a, alice.name, *b, bob.name, call, kinds::OFFER, "sdp");
  relays(*b, bob.name, *a, alice.name, call, kinds::ACCEPT);
  a->close();
  auto e = signal_of(*b, call);
  CHECK(e.kind == kinds::HANGUP);
  CHECK(e.peer == alice.name);
}

TEST_CASE("calls: signalling between devices is sealed end to end") {
  call_node n;
  auto alice = register_user(n.node, "alice");
  auto bob = register_user(n.node, "bob");
  e2e_device a(n.dir / "alice.sqlite", n.node.client_options(), alice);
  e2e_device b(n.dir / "bob.sqlite", n.node.client_options(), bob);
  a.connect();
  b.connect();
  auto call = new_message_id();
  REQUIRE(a.client().call_signal(call, bob.name, kinds::OFFER, "v=0 secret offer"));
  auto offer = b.await<client::call_event>([&](auto& e) { return e.call == call; });
  CHECK(offer.kind == kinds::OFFER);
  CHECK(offer.payload == "v=0 secret offer");
  REQUIRE(b.client().call_signal(call, alice.name, kinds::ANSWER, "v=0 secret answer"));
  auto answer = a.await<client::call_event>([&](auto& e) { return e.call == call; });
  CHECK(answer.payload == "v=0 secret answer");

  // What the node passes on is ciphertext, and relabelling it is noticed.
  auto raw = login(n.node, bob);  // replaces bob's device connection
  auto call2 = new_message_id();
  REQUIRE(a.client().call_signal(call2, bob.name, kinds::OFFER, "v=0 second offer"));
  auto sealed = signal_of(*raw, call2);
  CHECK(sealed.payload.find("second offer") == std::string::npos);
  auto relabelled = sealed;
  relabelled.kind = kinds::ANSWER;
  CHECK_FALSE(b.codec().open_call(relabelled));
  auto opened = b.codec().open_call(sealed);
  INFO((opened ? std::string() : opened.error().describe()));
  REQUIRE(opened);
  CHECK(*opened == "v=0 second offer");
}
