// The device store on its own: a real SQLite file in a temp folder.

#include "support/temp_dir.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace parley;
using namespace parley::client;
using parley::test::temp_dir;

namespace {

std::unique_ptr<device_store> open_store(const std::string& path) {
  auto store = device_store::open(path);
  INFO((store ? std::string() : store.error().describe()));
  REQUIRE(store);
  return std::move(*store);
}

message incoming(const std::string& from, const std::string& id, const std::string& text) {
  return message{1, from, id, text, 1000};
}

std::vector<std::string> bodies(const std::vector<stored_message>& ms) {
  std::vector<std::string> out;
  for (auto& m : ms)
    out.push_back(m.body);
  return out;
}

} // namespace

TEST_CASE("the outbox keeps messages in order with their ids - across reopening") {
  temp_dir dir;
  std::vector<std::string> ids;
  {
    auto store = open_store(dir / "alice.sqlite");
    for (auto text : {"one", "two", "three"}) {
      auto m = store->enqueue("bob", text);
      REQUIRE(m);
      CHECK(m->id.size() == 16);
      CHECK(m->state == tick_state::queued);
      ids.push_back(m->id);
    }
    REQUIRE(store->enqueue("carol", "four"));
  }
  auto store = open_store(dir / "alice.sqlite");
  auto waiting = store->outbox();
  REQUIRE(waiting);
  REQUIRE(bodies(*waiting) == std::vector<std::string>{"one", "two", "three", "four"});
  for (size_t i = 0; i < ids.size(); ++i)
    CHECK((*waiting)[i].id == ids[i]);
  CHECK((*waiting)[3].peer == "carol");

  // Paging from a position, as a reconnecting client posts them.
  auto after_first = store->outbox((*waiting)[0].seq, 2);
  REQUIRE(after_first);
  CHECK(bodies(*after_first) == std::vector<std::string>{"two", "three"});

  // A sent tick takes a message out of the outbox, in any order.
  REQUIRE(store->record_tick("bob", ids[1], tick_state::sent, 5000));
  waiting = store->outbox();
  REQUIRE(waiting);
  CHECK(bodies(*waiting) == std::vector<std::string>{"one", "three", "four"});
  CHECK(*store->outbox_size() == 3);
}

TEST_CASE("ticks only move forward - and a failed message stays failed") {
  temp_dir dir;
  auto store = open_store(dir / "alice.sqlite");
  auto m = store->enqueue("bob", "hello");
  REQUIRE(m);
  auto state = [&] {
    auto h = store->history("bob");
    REQUIRE(h);
    REQUIRE(h->size() == 1);
    return h->front();
  };
  // A delivered receipt can overtake the sent tick (it came on a newer link).
  CHECK(*store->record_tick("bob", m->id, tick_state::delivered, 0)
        == tick_result::advanced);
  CHECK(*store->record_tick("bob", m->id, tick_state::sent, 4000) == tick_result::unchanged);
  CHECK(state().state == tick_state::delivered);
  CHECK(*store->outbox_size() == 0);
  CHECK(*store->record_tick("bob", m->id, tick_state::read, 0) == tick_result::advanced);
  CHECK(*store->record_tick("bob", m->id, tick_state::delivered, 0)
        == tick_result::unchanged);
  CHECK(state().state == tick_state::read);

  // The peer is part of the key: the same id to someone else is unknown.
  CHECK(*store->record_tick("carol", m->id, tick_state::sent, 0) == tick_result::unknown);
  CHECK(*store->record_tick("bob", new_message_id(), tick_state::sent, 0)
        == tick_result::unknown);

  auto refused = store->enqueue("nobody", "hi");
  REQUIRE(refused);
  REQUIRE(store->mark_failed("nobody", refused->id, "unknownUser"));
  CHECK(*store->outbox_size() == 0);
  CHECK(*store->record_tick("nobody", refused->id, tick_state::sent, 0)
        == tick_result::unchanged);
  auto h = store->history("nobody");
  REQUIRE(h);
  CHECK(h->front().state == tick_state::failed);
  CHECK(h->front().error == "unknownUser");
  // Failed messages are not waiting for a tick.
  CHECK(*store->count_outgoing_below(tick_state::delivered) == 0);
}

TEST_CASE("incoming messages are stored once per sender and id") {
  temp_dir dir;
  auto store = open_store(dir / "bob.sqlite");
  auto id = new_message_id();
  CHECK(*store->record_incoming(incoming("alice", id, "hi")) == true);
  CHECK(*store->record_incoming(incoming("alice", id, "hi")) == false);
  // The same id from someone else is another message.
  CHECK(*store->record_incoming(incoming("carol", id, "hey")) == true);
  CHECK(*store->was_received("alice", id));
  CHECK_FALSE(*store->was_received("dave", id));
  auto all = store->all_messages();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK(all->at(0).peer == "alice");
  CHECK(all->at(0).state == tick_state::received);
  CHECK_FALSE(all->at(0).outgoing);
  CHECK(all->at(0).server_time == 1000);

  // Also once reopened: the dedup is on disk, not in memory.
  store.reset();
  store = open_store(dir / "bob.sqlite");
  CHECK(*store->record_incoming(incoming("alice", id, "hi")) == false);
  CHECK(store->all_messages()->size() == 2);
}

TEST_CASE("reads are flagged until the node is known to have them") {
  temp_dir dir;
  auto store = open_store(dir / "bob.sqlite");
  auto a = new_message_id();
  auto b = new_message_id();
  REQUIRE(store->record_incoming(incoming("alice", a, "one")));
  REQUIRE(store->record_incoming(incoming("alice", b, "two")));
  auto changed = store->mark_read("alice", {a});
  REQUIRE(changed);
  CHECK(*changed == std::vector<std::string>{a});
  // Marking again changes nothing, so nothing more to tell the node.
  CHECK(store->mark_read("alice", {a, b})->size() == 1);
  auto unconfirmed = store->unconfirmed_reads();
  REQUIRE(unconfirmed);
  CHECK(unconfirmed->size() == 2);
  REQUIRE(store->confirm_reads("alice", {a}));
  unconfirmed = store->unconfirmed_reads();
  REQUIRE(unconfirmed->size() == 1);
  CHECK(unconfirmed->front().id == b);
  CHECK(unconfirmed->front().state == tick_state::read);
}

TEST_CASE("history shows a conversation both ways in local order - the last N") {
  temp_dir dir;
  auto store = open_store(dir / "alice.sqlite");
  REQUIRE(store->enqueue("bob", "hi bob"));
  REQUIRE(store->record_incoming(incoming("bob", new_message_id(), "hi alice")));
  REQUIRE(store->enqueue("carol", "not in bob's"));
  REQUIRE(store->enqueue("bob", "how are you"));
  auto h = store->history("bob");
  REQUIRE(h);
  CHECK(bodies(*h) == std::vector<std::string>{"hi bob", "hi alice", "how are you"});
  CHECK((*h)[0].outgoing);
  CHECK_FALSE((*h)[1].outgoing);
  auto last_two = store->history("bob", 2);
  REQUIRE(last_two);
  CHECK(bodies(*last_two) == std::vector<std::string>{"hi alice", "how are you"});
}

TEST_CASE("a failed transaction leaves nothing behind") {
  temp_dir dir;
  auto store = open_store(dir / "alice.sqlite");
  auto result = store->transaction([&]() -> outcome<done> {
    REQUIRE(store->enqueue("bob", "one"));
    REQUIRE(store->record_incoming(incoming("bob", new_message_id(), "two")));
    return failure{failure::kind::local, wire::ErrorCode::INTERNAL, "changed my mind"};
  });
  CHECK_FALSE(result);
  CHECK(store->all_messages()->empty());
  // And a good one after it commits normally.
  REQUIRE(store->transaction([&]() -> outcome<done> {
    REQUIRE(store->enqueue("bob", "three"));
    return done{};
  }));
  CHECK(*store->outbox_size() == 1);
}

TEST_CASE("what enqueue returned survives the process being killed") {
  temp_dir dir;
  auto path = dir / "alice.sqlite";
  int report[2];
  REQUIRE(::pipe(report) == 0);
  auto child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Enqueues as fast as it can and says which ids it was promised.
    ::close(report[0]);
    auto store = device_store::open(path);
    if (!store)
      ::_exit(1);
    for (int i = 0;; ++i) {
      auto m = (*store)->enqueue("bob", "message " + std::to_string(i));
      if (!m)
        ::_exit(1);
      if (::write(report[1], m->id.data(), m->id.size()) != 16)
        ::_exit(1);
    }
  }
  ::close(report[1]);
  std::vector<std::string> promised;
  char buf[16];
  // Kill it mid-stream, somewhere after the 200th.
  while (promised.size() < 200) {
    size_t got = 0;
    while (got < sizeof(buf)) {
      auto n = ::read(report[0], buf + got, sizeof(buf) - got);
      REQUIRE(n > 0);
      got += static_cast<size_t>(n);
    }
    promised.emplace_back(buf, sizeof(buf));
  }
  ::kill(child, SIGKILL);
  // Ids written to the pipe before the kill were promised too.
  for (;;) {
    size_t got = 0;
    while (got < sizeof(buf)) {
      auto n = ::read(report[0], buf + got, sizeof(buf) - got);
      if (n <= 0)
        break;
      got += static_cast<size_t>(n);
    }
    if (got < sizeof(buf))
      break;
    promised.emplace_back(buf, sizeof(buf));
  }
  ::close(report[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));

  auto store = open_store(path);
  auto waiting = store->outbox();
  REQUIRE(waiting);
  INFO("promised " << promised.size() << ", in the outbox " << waiting->size());
  // Everything promised is there, in order; at most the one being written
  // when the kill came is there without having been promised.
  REQUIRE(waiting->size() >= promised.size());
  REQUIRE(waiting->size() <= promised.size() + 1);
  for (size_t i = 0; i < promised.size(); ++i) {
    CHECK((*waiting)[i].id == promised[i]);
    CHECK((*waiting)[i].body == "message " + std::to_string(i));
  }
  // And the file takes new messages.
  CHECK(store->enqueue("bob", "after the crash"));
}
