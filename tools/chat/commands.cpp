#include "tools/chat/commands.hpp"

#include "schema/rules.hpp"
#include "tools/chat/call_commands.hpp"
#include "tools/chat/device.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/message_id.hpp"
#include "tools/client/reconnecting_client.hpp"

#include <iostream>
#include <map>
#include <poll.h>
#include <sstream>
#include <unistd.h>

namespace parley::chat {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

std::chrono::milliseconds until(clock::time_point deadline) {
  auto now = clock::now();
  if (now >= deadline)
    return 0ms;
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
}

} // namespace

client::failure local_failure(std::string message) {
  return client::failure{client::failure::kind::local, wire::ErrorCode::INTERNAL,
                         std::move(message)};
}

/// The user's identity on this device; prints why not.
std::optional<identity> load_identity(context& ctx) {
  auto id = ctx.keys.load(ctx.user);
  if (!id)
    ctx.out.print(local_failure("no key for " + ctx.user + " in " + ctx.keys.home()
                                + "; run 'register' first"));
  return id;
}

/// The user's device store; prints why not.
std::unique_ptr<client::device_store> open_store(context& ctx) {
  auto store = client::device_store::open_for(ctx.keys.home(), ctx.user);
  if (!store) {
    ctx.out.print(store.error());
    return nullptr;
  }
  return std::move(*store);
}

/// The device's end-to-end layer; prints why not.
std::unique_ptr<client::e2e_codec> open_codec(context& ctx, client::device_store& store,
                                              const identity& id) {
  auto codec = client::e2e_codec::make(store, id, ctx.user);
  if (!codec) {
    ctx.out.print(codec.error());
    return nullptr;
  }
  return std::move(*codec);
}

/// Says so when a contact's identity key changed (compare safety numbers).
void warn_key_changes(context& ctx, client::e2e_codec& codec) {
  for (auto& peer : codec.key_changes())
    ctx.out.warning("identityChanged", peer,
                    peer + "'s identity key changed: compare safety numbers "
                           "(parley-chat safety-number " + peer + ")");
}

/// Connects and logs in as ctx.user; prints why not and returns false on failure.
bool open_session(context& ctx, client::connection& conn) {
  auto id = load_identity(ctx);
  if (!id)
    return false;
  if (auto ok = conn.connect(); !ok) {
    ctx.out.print(ok.error());
    return false;
  }
  if (auto ok = conn.login(ctx.user, *id); !ok) {
    ctx.out.print(ok.error());
    return false;
  }
  return true;
}

namespace {

/// A group as a conversation: "#" and its 32 hex digits.
bool is_group_name(const std::string& text) {
  return text.size() == 33 && text[0] == '#'
         && text.find_first_not_of("0123456789abcdef", 1) == std::string::npos;
}

} // namespace

int run_register(context& ctx) {
  // Reuse this device's key if it has one: a retried register then succeeds.
  auto id = ctx.keys.load(ctx.user);
  bool created = false;
  if (!id) {
    id = identity::generate();
    std::string error;
    if (!ctx.keys.save(ctx.user, *id, error)) {
      ctx.out.print(local_failure(error));
      return exit_failed;
    }
    created = true;
  }
  client::connection conn(ctx.server);
  auto ok = conn.connect();
  if (ok)
    ok = conn.register_user(ctx.user, *id);
  if (!ok) {
    ctx.out.print(ok.error());
    if (created && ok.error().what == client::failure::kind::server)
      ::unlink(ctx.keys.key_path(ctx.user).c_str());  // the name is not ours
    return exit_failed;
  }
  ctx.out.info("registered " + ctx.user + " (key in " + ctx.keys.key_path(ctx.user)
               + ")");
  // Publish prekeys now, so that others can write before this device logs in.
  auto store = open_store(ctx);
  if (!store)
    return exit_failed;
  auto codec = open_codec(ctx, *store, *id);
  if (!codec)
    return exit_failed;
  auto welcome = conn.login(ctx.user, *id);
  auto published = welcome ? codec->on_login(conn) : client::outcome<client::done>{welcome.error()};
  if (!published) {
    ctx.out.print(published.error());
    return exit_failed;
  }
  conn.logout();
  return exit_done;
}

int run_send(context& ctx, const std::string& to,
             const std::optional<std::string>& text) {
  // Incoming messages and receipts stay on the node for 'listen'.
  auto d = device::open(ctx, false);
  if (!d)
    return exit_failed;
  auto& store = d->store();
  std::vector<std::string> texts;
  if (text) {
    texts.push_back(*text);
  } else {
    for (std::string line; std::getline(std::cin, line);)
      texts.push_back(line);
  }
  // Into the outbox first, all or none: from here on nothing is lost.
  auto queued = store.transaction([&]() -> client::outcome<client::done> {
    for (auto& t : texts)
      if (auto m = store.enqueue(to, t); !m)
        return m.error();
    return client::done{};
  });
  if (!queued) {
    ctx.out.print(queued.error());
    return exit_failed;
  }
  return send_outbox(ctx, *d);
}

int send_outbox(context& ctx, device& d) {
  auto& store = d.store();
  auto& conn = d.client();
  auto deadline = clock::now() + ctx.server.timeout;
  bool ever_up = false;
  bool refused = false;
  std::optional<client::failure> problem;
  for (;;) {
    auto waiting = store.outbox_size();
    if (!waiting) {
      ctx.out.print(waiting.error());
      return exit_failed;
    }
    if (*waiting == 0 || clock::now() >= deadline)
      break;
    auto updates = d.step(std::min<std::chrono::milliseconds>(until(deadline), 1s));
    if (!updates)
      return exit_failed;
    bool give_up = false;
    for (auto& u : *updates) {
      if (std::holds_alternative<client::link_up>(u)) {
        ever_up = true;
      } else if (auto down = std::get_if<client::link_down>(&u)) {
        problem = down->why;
        // Not even one link: no node is reachable now; don't wait for one.
        give_up = give_up || !ever_up;
      } else if (auto r = std::get_if<client::receipt>(&u)) {
        ctx.out.print(*r);
      } else if (auto err = std::get_if<client::server_error>(&u)) {
        ctx.out.print(*err);
        refused = refused || !err->refers_to.empty();
      }
    }
    if (give_up)
      break;
  }
  conn.logout();
  auto left = store.outbox();
  if (!left) {
    ctx.out.print(left.error());
    return exit_failed;
  }
  if (!left->empty()) {
    for (auto& m : *left)
      ctx.out.queued(m);
    auto why = problem ? problem->describe() : std::string("no sent tick in time");
    ctx.out.info(std::to_string(left->size()) + " message(s) queued (" + why
                 + "); the next send, listen or interactive session sends them");
    return refused ? exit_failed : exit_queued;
  }
  return refused ? exit_failed : exit_done;
}

int run_listen(context& ctx, std::optional<size_t> count,
               std::optional<double> timeout_seconds, bool read, call_policy calls) {
  auto d = device::open(ctx, true);
  if (!d)
    return exit_failed;
  auto& conn = d->client();
  auto deadline = clock::time_point::max();
  if (timeout_seconds)
    deadline = clock::now()
               + std::chrono::duration_cast<clock::duration>(
                 std::chrono::duration<double>(*timeout_seconds));
  size_t messages = 0;
  call_desk desk(ctx, calls);
  while ((!count || messages < *count) && clock::now() < deadline) {
    auto updates = d->step(std::min<std::chrono::milliseconds>(until(deadline), 1s));
    if (!updates)
      return exit_failed;
    std::vector<std::pair<std::string, std::vector<std::string>>> seen;
    for (auto& u : *updates) {
      if (auto e = std::get_if<client::call_event>(&u))
        desk.on(conn, *e);  // prints it too
      else
        std::visit([&](const auto& x) { ctx.out.print(x); }, u);
      if (auto m = std::get_if<client::message>(&u)) {
        ++messages;
        if (seen.empty() || seen.back().first != m->from)
          seen.emplace_back(m->from, std::vector<std::string>{});
        seen.back().second.push_back(m->id);
      }
    }
    if (read)
      for (auto& [peer, ids] : seen)
        if (auto ok = conn.mark_read(peer, ids); !ok) {
          ctx.out.print(ok.error());
          return exit_failed;
        }
  }
  // Logging out (the destructor) lets the node's session take the last
  // acknowledgements in order; unconfirmed read ones go again next time.
  return exit_done;
}

int run_safety_number(context& ctx, const std::string& peer) {
  auto id = load_identity(ctx);
  if (!id)
    return exit_failed;
  auto store = open_store(ctx);
  if (!store)
    return exit_failed;
  auto codec = open_codec(ctx, *store, *id);
  if (!codec)
    return exit_failed;
  auto number = codec->safety_number(peer);
  if (!number) {
    ctx.out.print(number.error());
    return exit_failed;
  }
  ctx.out.safety_number(peer, *number);
  return exit_done;
}

int run_last_seen(context& ctx, const std::string& user) {
  client::connection conn(ctx.server);
  if (!open_session(ctx, conn))
    return exit_failed;
  auto p = conn.last_seen(user);
  if (!p) {
    ctx.out.print(p.error());
    return exit_failed;
  }
  ctx.out.print(*p);
  conn.logout();
  return exit_done;
}

int run_outbox(context& ctx) {
  auto store = open_store(ctx);
  if (!store)
    return exit_failed;
  auto waiting = store->outbox();
  if (!waiting) {
    ctx.out.print(waiting.error());
    return exit_failed;
  }
  if (waiting->empty())
    ctx.out.info("the outbox is empty");
  for (auto& m : *waiting)
    ctx.out.queued(m);
  return exit_done;
}

int run_history(context& ctx, const std::string& peer, std::optional<size_t> limit) {
  auto store = open_store(ctx);
  if (!store)
    return exit_failed;
  auto conversation = store->history(peer, limit.value_or(SIZE_MAX));
  if (!conversation) {
    ctx.out.print(conversation.error());
    return exit_failed;
  }
  if (conversation->empty())
    ctx.out.info("no messages with " + peer + " on this device");
  for (auto& m : *conversation)
    ctx.out.history(m, ctx.user);
  return exit_done;
}

int run_interactive(context& ctx) {
  auto d = device::open(ctx, true);
  if (!d)
    return exit_failed;
  auto& conn = d->client();
  auto& store = d->store();
  ctx.out.info(ctx.user + " here; /help lists the commands");
  std::string peer;  // where plain lines go
  std::map<std::string, std::vector<std::string>> unread;  // peer -> message ids
  call_desk desk(ctx, call_policy::ignore);
  auto help = [&] {
    ctx.out.info("/to USER          send plain lines to USER (#GROUP: to a group)\n"
                 "/send USER TEXT   send TEXT to USER (#GROUP: to a group)\n"
                 "/call USER        call USER; /answer, /reject or /hangup a call\n"
                 "/read [USER]      mark USER's messages read (default: /to's)\n"
                 "/history [USER]   show the conversation with USER (default: /to's)\n"
                 "/outbox           show messages waiting to be sent\n"
                 "/last-seen USER   show USER's presence\n"
                 "/watch USER       show USER's presence changes as they happen\n"
                 "/quit             log out");
  };
  auto send = [&](const std::string& to, const std::string& text) {
    auto m = conn.send(to, text);
    if (!m)
      ctx.out.print(m.error());
    else if (!conn.connected())
      ctx.out.info("not connected: queued for " + to);
  };
  for (;;) {
    auto updates = d->step(0ms);
    if (!updates)
      return exit_failed;
    for (auto& u : *updates) {
      if (auto e = std::get_if<client::call_event>(&u))
        desk.on(conn, *e);
      else
        std::visit([&](const auto& x) { ctx.out.print(x); }, u);
      if (auto m = std::get_if<client::message>(&u))
        unread[m->from].push_back(m->id);
    }
    auto wait = conn.connected() ? 1000ms : std::min(conn.until_next_attempt(), 1000ms);
    if (conn.has_buffered_input())
      wait = 0ms;
    pollfd fds[2] = {{0, POLLIN, 0}, {conn.fd(), POLLIN, 0}};
    if (::poll(fds, conn.fd() >= 0 ? 2 : 1, static_cast<int>(wait.count())) < 0
        && errno != EINTR)
      return exit_failed;
    if (fds[0].revents == 0)
      continue;
    std::string line;
    if (!std::getline(std::cin, line))
      break;
    if (line.empty())
      continue;
    if (line[0] != '/') {
      if (peer.empty())
        ctx.out.info("say whom to with /to USER first");
      else
        send(peer, line);
      continue;
    }
    std::istringstream in(line);
    std::string cmd, arg;
    in >> cmd >> arg;
    std::string rest;
    std::getline(in >> std::ws, rest);
    if (cmd == "/quit") {
      break;
    } else if (cmd == "/help") {
      help();
    } else if (cmd == "/to" && (valid_user_name(arg) || is_group_name(arg))) {
      peer = arg;
    } else if (cmd == "/send" && (valid_user_name(arg) || is_group_name(arg))
               && !rest.empty()) {
      send(arg, rest);
    } else if (cmd == "/call" && valid_user_name(arg)) {
      if (!conn.connected())
        ctx.out.info("not connected");
      else
        desk.place(conn, arg, "sdp-offer");
    } else if (cmd == "/answer") {
      desk.answer(conn);
    } else if (cmd == "/reject") {
      desk.reject(conn);
    } else if (cmd == "/hangup") {
      desk.hangup(conn);
    } else if (cmd == "/read") {
      auto who = arg.empty() ? peer : arg;
      if (auto i = unread.find(who); i != unread.end()) {
        if (auto ok = conn.mark_read(who, i->second); !ok)
          ctx.out.print(ok.error());
        unread.erase(i);
      }
    } else if (cmd == "/history") {
      auto who = arg.empty() ? peer : arg;
      if (auto h = store.history(who, 50); h)
        for (auto& m : *h)
          ctx.out.history(m, ctx.user);
      else
        ctx.out.print(h.error());
    } else if (cmd == "/outbox") {
      if (auto o = store.outbox(); o)
        for (auto& m : *o)
          ctx.out.queued(m);
      else
        ctx.out.print(o.error());
    } else if (cmd == "/last-seen" && valid_user_name(arg)) {
      if (auto link = conn.link(); link == nullptr)
        ctx.out.info("not connected");
      else if (auto p = link->last_seen(arg); p)
        ctx.out.print(*p);
      else
        ctx.out.print(p.error());
    } else if (cmd == "/watch" && valid_user_name(arg)) {
      conn.watch({arg});
    } else {
      help();
    }
  }
  // Give what was just typed a chance to get its sent tick before leaving;
  // whatever does not stays in the outbox for next time.
  auto deadline = clock::now() + ctx.server.timeout;
  for (;;) {
    auto waiting = store.outbox_size();
    if (!waiting || *waiting == 0 || !conn.connected() || clock::now() >= deadline) {
      if (waiting && *waiting > 0)
        ctx.out.info(std::to_string(*waiting)
                     + " message(s) stay queued; the next session sends them");
      break;
    }
    auto updates = d->step(std::min<std::chrono::milliseconds>(until(deadline), 200ms));
    if (!updates)
      break;
    for (auto& u : *updates)
      std::visit([&](const auto& x) { ctx.out.print(x); }, u);
  }
  return exit_done;
}

} // namespace parley::chat
