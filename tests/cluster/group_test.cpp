// Groups on a real 3-node cluster: a group homed on one member, its members on
// the others, some of them offline. A group message is sent once and lands in
// every member's inbox; its sent tick comes once every member's home has it;
// the sender's delivered and read ticks are the aggregate of every member's.
// Then the rules (admins, members, stale epochs, retransmissions), and a group
// of 1,024 members.

#include "support/cluster.hpp"
#include "support/groups.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;
using wire::AckState;
using wire::ErrorCode;
using wire::ReceiptState;

namespace {

/// The next message of `group`, as `conn` receives it.
client::message group_message(client::connection& conn, const std::string& group,
                              std::vector<client::event>* others = nullptr) {
  return await_event<client::message>(
    conn, [&](const client::message& m) { return m.group == group; }, others);
}

/// The aggregate tick `state` of group message `id`, as its sender gets it.
client::receipt aggregate(client::connection& conn, const std::string& id,
                          ReceiptState state, std::vector<client::event>* others = nullptr) {
  return await_event<client::receipt>(
    conn,
    [&](const client::receipt& r) {
      return r.id == id && r.state == state && !r.group.empty();
    },
    others);
}

/// Whether `events` hold a receipt for `id` in `state`.
bool has_receipt(const std::vector<client::event>& events, const std::string& id,
                 ReceiptState state) {
  for (auto& e : events)
    if (auto r = std::get_if<client::receipt>(&e); r && r->id == id && r->state == state)
      return true;
  return false;
}

void require_error(const client::failure& f, ErrorCode code) {
  INFO(f.describe());
  REQUIRE(f.what == client::failure::kind::server);
  CHECK(f.code == code);
}

} // namespace

TEST_CASE("groups: a group of 3 on 3 nodes, one member offline, with aggregate ticks") {
  cluster c{3};
  c.start();
  auto alice = register_user(c.node(0), c.user_homed_on(0, "alice"));
  auto bob = register_user(c.node(0), c.user_homed_on(1, "bob"));
  auto carol = register_user(c.node(0), c.user_homed_on(2, "carol"));
  auto group = id_homed_on(c, 1);  // on bob's node, neither alice's nor carol's

  // alice is connected to carol's node, bob to alice's.
  auto a = login(c.node(2), alice);
  auto created = a->create_group(group, "trio", {bob.name, carol.name});
  INFO(why(created));
  REQUIRE(created);
  CHECK(created->epoch == 1);
  REQUIRE(created->members.size() == 3);
  CHECK(created->members[0].user == alice.name);
  CHECK(created->members[0].admin);
  CHECK_FALSE(created->members[1].admin);

  auto b = login(c.node(0), bob);
  auto notice = await_event<client::group_notice>(
    *b, [&](const client::group_notice& n) { return n.group == group; });
  CHECK(notice.action == wire::GroupAction::CREATED);
  CHECK(notice.by == alice.name);
  CHECK(notice.name == "trio");
  CHECK(notice.members.empty());  // it concerns every member

  // carol is offline: the sent tick still comes, once her home has it.
  auto id = new_message_id();
  auto sent = a->send_group(group, id, 1, "hello, trio");
  INFO(why(sent));
  REQUIRE(sent);
  CHECK(sent->group == group);
  CHECK(sent->peer.empty());
  CHECK(inbox_depths(c.node(2))[carol.name] == 2);  // the notice and the message

  auto got = group_message(*b, group);
  CHECK(got.from == alice.name);
  CHECK(got.id == id);
  CHECK(got.payload == "hello, trio");
  auto none = a->message_info_of(group, id);
  REQUIRE(none);
  CHECK(none->recipients.size() == 2);
  CHECK(count_at_least(*none, ReceiptState::DELIVERED) == 0);

  // bob has it; carol does not yet: no aggregate tick.
  REQUIRE(b->ack(alice.name, {id}, AckState::DELIVERED));
  auto one = info_when(*a, group, id, [](auto& i) {
    return count_at_least(i, ReceiptState::DELIVERED) == 1;
  });
  for (auto& r : one.recipients)
    CHECK(r.state == (r.user == bob.name ? ReceiptState::DELIVERED : ReceiptState::SENT));
  std::vector<client::event> early;
  while (auto e = a->next_event(0ms)) {
    REQUIRE(e);
    if (!*e)
      break;
    early.push_back(std::move(**e));
  }
  CHECK_FALSE(has_receipt(early, id, ReceiptState::DELIVERED));

  // bob reads it; carol comes online through alice's node and gets everything.
  REQUIRE(b->ack(alice.name, {id}, AckState::READ));
  auto cc = login(c.node(0), carol);
  auto carols = group_message(*cc, group);
  CHECK(carols.id == id);
  CHECK(carols.payload == "hello, trio");
  REQUIRE(cc->ack(alice.name, {id}, AckState::DELIVERED));
  auto delivered = aggregate(*a, id, ReceiptState::DELIVERED);
  CHECK(delivered.group == group);
  // Read only once carol read it too.
  auto two_read = info_when(*a, group, id, [](auto& i) {
    return count_at_least(i, ReceiptState::READ) == 1
           && count_at_least(i, ReceiptState::DELIVERED) == 2;
  });
  CHECK(two_read.recipients.size() == 2);
  REQUIRE(cc->ack(alice.name, {id}, AckState::READ));
  aggregate(*a, id, ReceiptState::READ);
  auto all = a->message_info_of(group, id);
  REQUIRE(all);
  CHECK(count_at_least(*all, ReceiptState::READ) == 2);
  // Only the sender may ask about a message: for anyone else it is not theirs.
  auto theirs = b->message_info_of(group, id);
  REQUIRE_FALSE(theirs);
  require_error(theirs.error(), ErrorCode::UNKNOWN_MESSAGE);
}

TEST_CASE("groups: admins, members, epochs, retransmissions and removal") {
  cluster c{3, {"--parley.max-group-members=4"}};
  c.start();
  auto alice = register_user(c.node(0), c.user_homed_on(0, "alice"));
  auto bob = register_user(c.node(0), c.user_homed_on(1, "bob"));
  auto carol = register_user(c.node(0), c.user_homed_on(2, "carol"));
  auto dave = register_user(c.node(0), c.user_homed_on(0, "dave"));
  auto erin = register_user(c.node(0), c.user_homed_on(1, "erin"));
  auto group = id_homed_on(c, 2);
  auto a = login(c.node(0), alice);
  auto b = login(c.node(1), bob);
  auto cc = login(c.node(2), carol);

  auto unknown = a->create_group(group, "club", {bob.name, "nobody"});
  REQUIRE_FALSE(unknown);
  require_error(unknown.error(), ErrorCode::UNKNOWN_USER);
  auto big = a->create_group(group, "club", {bob.name, carol.name, dave.name, erin.name});
  REQUIRE_FALSE(big);
  require_error(big.error(), ErrorCode::GROUP_TOO_LARGE);
  auto created = a->create_group(group, "club", {bob.name, carol.name});
  REQUIRE(created);
  // A retried create answers the same; someone else's create is refused.
  auto again = a->create_group(group, "club", {bob.name, carol.name});
  REQUIRE(again);
  CHECK(again->epoch == 1);
  auto theirs = b->create_group(group, "mine", {});
  REQUIRE_FALSE(theirs);
  require_error(theirs.error(), ErrorCode::GROUP_EXISTS);

  // Only admins change it; only members see it.
  auto by_bob = b->add_members(group, {dave.name});
  REQUIRE_FALSE(by_bob);
  require_error(by_bob.error(), ErrorCode::NOT_GROUP_ADMIN);
  auto d = login(c.node(0), dave);
  auto peek = d->query_group(group);
  REQUIRE_FALSE(peek);
  require_error(peek.error(), ErrorCode::NOT_GROUP_MEMBER);
  auto outsider = d->send_group(group, new_message_id(), 1, "let me in");
  REQUIRE_FALSE(outsider);
  require_error(outsider.error(), ErrorCode::NOT_GROUP_MEMBER);

  // A retransmission is delivered once.
  auto id = new_message_id();
  REQUIRE(b->send_group(group, id, 1, "once"));
  REQUIRE(b->send_group(group, id, 1, "once"));
  CHECK(group_message(*cc, group).id == id);

  // alice adds dave (epoch 2): a send sealed for epoch 1 is stale now.
  auto added = a->add_members(group, {dave.name});
  REQUIRE(added);
  CHECK(added->epoch == 2);
  CHECK(added->members.size() == 4);
  auto stale = b->send_group(group, new_message_id(), 1, "old epoch");
  REQUIRE_FALSE(stale);
  require_error(stale.error(), ErrorCode::STALE_GROUP);
  // ...but the retransmission of a message sent before still goes through (on
  // a new connection: this one takes no send ahead of the stale one now).
  b = login(c.node(1), bob);
  REQUIRE(b->send_group(group, id, 1, "once"));
  auto too_many = a->add_members(group, {erin.name});
  REQUIRE_FALSE(too_many);
  require_error(too_many.error(), ErrorCode::GROUP_TOO_LARGE);

  // carol is removed: she hears so, and gets nothing sent after.
  auto removed = a->remove_members(group, {carol.name});
  REQUIRE(removed);
  CHECK(removed->epoch == 3);
  CHECK_FALSE(removed->has(carol.name));
  auto told = await_event<client::group_notice>(*cc, [](const client::group_notice& n) {
    return n.action == wire::GroupAction::REMOVED;
  });
  CHECK(told.members == std::vector<std::string>{carol.name});
  CHECK(told.epoch == 3);
  auto after = new_message_id();
  REQUIRE(a->send_group(group, after, 3, "without carol"));
  CHECK(group_message(*d, group).id == after);
  auto carols = cc->send_group(group, new_message_id(), 3, "still here?");
  REQUIRE_FALSE(carols);
  require_error(carols.error(), ErrorCode::NOT_GROUP_MEMBER);
  auto sink = register_user(c.node(0), c.user_homed_on(2, "sink"));
  for (auto& e : barrier(*cc, sink.name))
    if (auto m = std::get_if<client::message>(&e))
      CHECK(m->id != after);

  // The last admin leaves: the longest-standing member takes over.
  auto left = a->leave_group(group);
  REQUIRE(left);
  CHECK_FALSE(left->has(alice.name));
  auto now = b->query_group(group);
  REQUIRE(now);
  CHECK(now->members.front().user == bob.name);
  CHECK(now->members.front().admin);
  REQUIRE(b->promote(group, {dave.name}));
  auto promoted = d->query_group(group);
  REQUIRE(promoted);
  CHECK(promoted->members.back().admin);
}

TEST_CASE("groups: 1,024 members on 3 nodes, all offline when it is sent") {
  cluster c{3};
  c.start();
  auto members = register_many(c.node(0), "m", 1023);
  auto alice = register_user(c.node(0), c.user_homed_on(0, "alice"));
  auto group = id_homed_on(c, 1);
  std::vector<std::string> names;
  for (auto& m : members)
    names.push_back(m.name);
  auto a = login(c.node(2), alice);
  auto created = a->create_group(group, "everyone", names);
  INFO(why(created));
  REQUIRE(created);
  CHECK(created->members.size() == 1024);

  auto id = new_message_id();
  auto sent = a->send_group(group, id, 1, "hello, all 1,023 of you");
  INFO(why(sent));
  REQUIRE(sent);
  // Every member's home has the notice and the message, and nobody else does.
  std::map<std::string, size_t> depths;
  for (size_t i = 0; i < 3; ++i)
    for (auto& [user, n] : inbox_depths(c.node(i)))
      depths[user] += n;
  for (auto& m : members) {
    INFO(m.name);
    CHECK(depths[m.name] == 2);
  }
  CHECK(depths[alice.name] == 1);  // her own notice of the creation, not the message

  // Everyone but the last comes online (through any node) and acknowledges.
  std::atomic<size_t> next{0};
  std::atomic<size_t> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i + 1 < members.size(); i = next++) {
        client::connection conn(c.node(i % 3).client_options());
        if (!conn.connect() || !conn.login(members[i].name, members[i].id)) {
          ++wrong;
          continue;
        }
        bool got = false;
        while (!got) {
          auto e = conn.next_event(20s);
          if (!e || !*e)
            break;
          if (auto n = std::get_if<client::group_notice>(&**e))
            conn.ack_receipts({n->seq});
          if (auto m = std::get_if<client::message>(&**e)) {
            got = m->id == id && m->payload == "hello, all 1,023 of you";
            conn.ack(m->from, {m->id}, AckState::DELIVERED);
          }
        }
        if (!got)
          ++wrong;
        conn.logout();
      }
    });
  }
  for (auto& w : workers)
    w.join();
  REQUIRE(wrong == 0);
  auto most = info_when(*a, group, id, [](auto& i) {
    return count_at_least(i, ReceiptState::DELIVERED) == 1022;
  });
  CHECK(most.recipients.size() == 1023);
  std::vector<client::event> so_far;
  while (auto e = a->next_event(0ms)) {
    REQUIRE(e);
    if (!*e)
      break;
    so_far.push_back(std::move(**e));
  }
  CHECK_FALSE(has_receipt(so_far, id, ReceiptState::DELIVERED));

  // The last one makes it delivered.
  auto last = login(c.node(0), members.back());
  auto m = group_message(*last, group);
  CHECK(m.id == id);
  REQUIRE(last->ack(alice.name, {id}, AckState::DELIVERED));
  aggregate(*a, id, ReceiptState::DELIVERED);
}

TEST_CASE("groups: a group outlives its idle actor and a killed node") {
  temp_dir dir;
  node_process node(dir.path(), {"--parley.group-idle-timeout=100ms"});
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  auto group = new_message_id();
  auto first = new_message_id();
  {
    auto a = login(node, alice);
    REQUIRE(a->create_group(group, "lasting", {bob.name}));
    REQUIRE(a->send_group(group, first, 1, "one"));
    // Long idle: the group's actor stops; the next request loads the group.
    std::this_thread::sleep_for(500ms);
    auto g = a->query_group(group);
    REQUIRE(g);
    CHECK(g->members.size() == 2);
  }
  node.kill_and_wait(SIGKILL);
  node.start();
  auto a = login(node, alice);
  auto g = a->query_group(group);
  REQUIRE(g);
  CHECK(g->name == "lasting");
  CHECK(g->epoch == 1);
  // The ledger survived too: a retransmission is recognised, a new one goes out.
  REQUIRE(a->send_group(group, first, 1, "one"));
  auto second = new_message_id();
  REQUIRE(a->send_group(group, second, 1, "two"));
  auto b = login(node, bob);
  CHECK(group_message(*b, group).id == first);
  CHECK(group_message(*b, group).id == second);
  auto info = a->message_info_of(group, first);
  REQUIRE(info);
  CHECK(info->recipients.size() == 1);
}
