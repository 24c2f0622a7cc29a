// Groups end to end, as devices with the e2e codec live them: a group message
// is encrypted once with the sender's sender key, handed to the members over
// their pairwise sessions; the node stores only ciphertext; once a member is
// removed every remaining sender replaces its key, and the removed member
// cannot decrypt what follows, even given the ciphertext.

#include "support/e2e_device.hpp"
#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "tools/client/e2e/sender_key.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace parley;
using namespace parley::test;

namespace {

/// The payload our group message `seq` went out as (what the node fanned out).
std::string sealed_payload(e2e_device& d, int64_t seq) {
  auto wire = d.store().wire_of(seq);
  REQUIRE(wire);
  REQUIRE(*wire);
  return (*wire)->substr(8);  // after the epoch it was sealed for
}

uint32_t key_id_of(const std::string& payload) {
  auto msg = e2e::decode_sender_key_message(payload);
  REQUIRE(msg);
  return msg->key_id;
}

/// Sends `text` to `group` from `d` and waits for the sent tick.
client::stored_message send_to(e2e_device& d, const std::string& group,
                               const std::string& text) {
  auto m = d.client().send_group(group, text);
  INFO((m ? std::string() : m.error().describe()));
  REQUIRE(m);
  d.drain();
  return *m;
}

/// Waits until `d` received `text` in `group` from `from`.
void receives(e2e_device& d, const std::string& group, const std::string& from,
              const std::string& text) {
  auto m = d.await<client::message>([&](const client::message& m) {
    return m.group == group && m.from == from && m.payload == text;
  });
  CHECK(m.id.size() == 16);
}

} // namespace

TEST_CASE("group e2e: sender keys, ciphertext only on the node, removal locks out") {
  temp_dir dir;
  node_process node(dir.path());
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  auto carol = register_user(node, "carol");
  e2e_device a(dir / "alice.sqlite", node.client_options(), alice);
  e2e_device b(dir / "bob.sqlite", node.client_options(), bob);
  e2e_device c(dir / "carol.sqlite", node.client_options(), carol);
  a.connect();
  b.connect();
  c.connect();

  auto group = new_message_id();
  auto created = a.client().link()->create_group(group, "secret club", {bob.name, carol.name});
  REQUIRE(created);
  REQUIRE(a.client().remember_group(*created));

  auto before = send_to(a, group, "before carol was removed");
  receives(b, group, alice.name, "before carol was removed");
  receives(c, group, alice.name, "before carol was removed");
  send_to(b, group, "bob, before");
  receives(a, group, bob.name, "bob, before");
  receives(c, group, bob.name, "bob, before");
  // The sender keys were handed out as messages of their own; nobody saw them.
  for (auto* d : {&a, &b, &c})
    for (auto& u : d->seen())
      if (auto m = std::get_if<client::message>(&u))
        CHECK(!m->group.empty());
  CHECK_FALSE(any_file_contains(node.data_dir(), "before carol was removed"));

  auto removed = a.client().link()->remove_members(group, {carol.name});
  REQUIRE(removed);
  REQUIRE(a.client().remember_group(*removed));
  c.await<client::group_notice>([&](const client::group_notice& n) {
    return n.group == group && n.action == wire::GroupAction::REMOVED;
  });

  auto after = send_to(a, group, "carol must not read this");
  receives(b, group, alice.name, "carol must not read this");
  auto payload = sealed_payload(a, after.seq);
  CHECK(key_id_of(payload) != key_id_of(sealed_payload(a, before.seq)));
  CHECK_FALSE(any_file_contains(node.data_dir(), "carol must not read this"));
  // Carol, given the very bytes the node fanned out, cannot open them.
  auto opened = c.codec().open_group(group, alice.name, payload);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().message.find("no sender key") != std::string::npos);

  // bob replaces his key too, at his first message since (his client learns of
  // the removal from the notice, or from the node refusing a stale epoch).
  auto bobs = send_to(b, group, "bob, after");
  receives(a, group, bob.name, "bob, after");
  auto bob_payload = sealed_payload(b, bobs.seq);
  REQUIRE_FALSE(c.codec().open_group(group, bob.name, bob_payload));
  // Nothing sent after the removal reached carol's device at all.
  for (auto& u : c.seen())
    if (auto m = std::get_if<client::message>(&u))
      CHECK(m->payload.find("after") == std::string::npos);
  CHECK(a.codec().sender_key_holders(group)->size() == 1);  // bob only
}
