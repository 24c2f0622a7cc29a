#include "tools/chat/commands.hpp"

#include "schema/rules.hpp"
#include "tools/client/message_id.hpp"

#include <iostream>
#include <map>
#include <poll.h>
#include <sstream>
#include <unistd.h>

namespace parley::chat {

namespace {

using namespace std::chrono_literals;

constexpr size_t max_sends_in_flight = 64;

/// Connects and logs in as ctx.user; prints why not and returns false on failure.
bool open_session(context& ctx, client::connection& conn) {
  auto id = ctx.keys.load(ctx.user);
  if (!id) {
    ctx.out.print(client::failure{client::failure::kind::local,
                                  wire::ErrorCode::INTERNAL,
                                  "no key for " + ctx.user + " in " + ctx.keys.home()
                                    + "; run 'register' first"});
    return false;
  }
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

/// Prints an event and acknowledges what needs it. Returns false if the
/// connection should end (the node sent an error that closes it).
bool handle(context& ctx, client::connection& conn, const client::event& e,
            bool read) {
  ctx.out.print(e);
  if (auto m = std::get_if<client::message>(&e)) {
    conn.ack(m->from, {m->id}, wire::AckState::DELIVERED);
    if (read)
      conn.ack(m->from, {m->id}, wire::AckState::READ);
  } else if (auto r = std::get_if<client::receipt>(&e); r && r->seq != 0) {
    conn.ack_receipts({r->seq});
  }
  return conn.is_open();
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
      ctx.out.print(client::failure{client::failure::kind::local,
                                    wire::ErrorCode::INTERNAL, error});
      return 1;
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
    return 1;
  }
  ctx.out.info("registered " + ctx.user + " (key in " + ctx.keys.key_path(ctx.user)
               + ")");
  return 0;
}

int run_send(context& ctx, const std::string& to,
             const std::optional<std::string>& text) {
  client::connection conn(ctx.server);
  if (!open_session(ctx, conn))
    return 1;
  // Keep up to max_sends_in_flight unanswered; print each sent tick as it comes.
  std::map<std::string, bool> in_flight;
  bool more_input = true;
  auto next_text = [&]() -> std::optional<std::string> {
    if (text) {
      if (!more_input)
        return std::nullopt;
      more_input = false;
      return *text;
    }
    std::string line;
    if (!std::getline(std::cin, line)) {
      more_input = false;
      return std::nullopt;
    }
    return line;
  };
  for (;;) {
    while (more_input && in_flight.size() < max_sends_in_flight) {
      auto body = next_text();
      if (!body)
        break;
      auto id = new_message_id();
      if (auto ok = conn.post(to, id, *body); !ok) {
        ctx.out.print(ok.error());
        return 1;
      }
      in_flight.emplace(id, true);
    }
    if (in_flight.empty())
      return 0;
    auto e = conn.next_event(ctx.server.timeout);
    if (!e) {
      ctx.out.print(e.error());
      return 1;
    }
    if (!*e) {
      ctx.out.print(client::failure{client::failure::kind::timeout,
                                    wire::ErrorCode::INTERNAL,
                                    "no sent tick from the node"});
      return 1;
    }
    if (auto r = std::get_if<client::receipt>(&**e);
        r && r->state == wire::ReceiptState::SENT && in_flight.erase(r->id) > 0) {
      ctx.out.print(*r);
    } else if (auto err = std::get_if<client::server_error>(&**e)) {
      ctx.out.print(*err);
      return 1;
    }
    // Other events (messages, later receipts) stay in the inbox for 'listen'.
  }
}

int run_listen(context& ctx, std::optional<size_t> count,
               std::optional<double> timeout_seconds, bool read) {
  client::connection conn(ctx.server);
  if (!open_session(ctx, conn))
    return 1;
  using clock = std::chrono::steady_clock;
  auto deadline = clock::time_point::max();
  if (timeout_seconds)
    deadline = clock::now()
               + std::chrono::duration_cast<clock::duration>(
                 std::chrono::duration<double>(*timeout_seconds));
  size_t messages = 0;
  while (!count || messages < *count) {
    auto now = clock::now();
    if (now >= deadline)
      break;
    auto wait = std::min<clock::duration>(deadline - now, 1s);
    auto e = conn.next_event(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
    if (!e) {
      ctx.out.print(e.error());
      return 1;
    }
    if (!*e)
      continue;
    if (std::holds_alternative<client::message>(**e))
      ++messages;
    if (!handle(ctx, conn, **e, read))
      return 1;
  }
  conn.logout();
  return 0;
}

int run_last_seen(context& ctx, const std::string& user) {
  client::connection conn(ctx.server);
  if (!open_session(ctx, conn))
    return 1;
  auto p = conn.last_seen(user);
  if (!p) {
    ctx.out.print(p.error());
    return 1;
  }
  ctx.out.print(*p);
  conn.logout();
  return 0;
}

int run_interactive(context& ctx) {
  client::connection conn(ctx.server);
  if (!open_session(ctx, conn))
    return 1;
  ctx.out.info("logged in as " + ctx.user + "; /help lists the commands");
  std::string peer;  // where plain lines go
  std::map<std::string, std::vector<std::string>> unread;  // peer -> message ids
  auto help = [&] {
    ctx.out.info("/to USER          send plain lines to USER\n"
                 "/send USER TEXT   send TEXT to USER\n"
                 "/read [USER]      mark USER's messages read (default: /to's)\n"
                 "/last-seen USER   show USER's presence\n"
                 "/watch USER       show USER's presence changes as they happen\n"
                 "/quit             log out");
  };
  auto send = [&](const std::string& to, const std::string& text) {
    auto id = new_message_id();
    if (auto ok = conn.post(to, id, text); !ok)
      ctx.out.print(ok.error());
  };
  for (;;) {
    while (conn.has_queued()) {
      auto e = conn.next_event(0ms);
      if (!e) {
        ctx.out.print(e.error());
        return 1;
      }
      if (!*e)
        break;
      if (auto m = std::get_if<client::message>(&**e))
        unread[m->from].push_back(m->id);
      if (!handle(ctx, conn, **e, false))
        return 1;
    }
    pollfd fds[2] = {{0, POLLIN, 0}, {conn.fd(), POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR)
      return 1;
    if (fds[1].revents != 0 || fds[0].revents == 0) {
      // Read what arrived (and let the connection send its heartbeat).
      auto e = conn.next_event(0ms);
      if (!e) {
        ctx.out.print(e.error());
        return 1;
      }
      if (*e) {
        if (auto m = std::get_if<client::message>(&**e))
          unread[m->from].push_back(m->id);
        if (!handle(ctx, conn, **e, false))
          return 1;
      }
    }
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
    } else if (cmd == "/to" && valid_user_name(arg)) {
      peer = arg;
    } else if (cmd == "/send" && valid_user_name(arg) && !rest.empty()) {
      send(arg, rest);
    } else if (cmd == "/read") {
      auto who = arg.empty() ? peer : arg;
      if (auto i = unread.find(who); i != unread.end()) {
        conn.ack(who, i->second, wire::AckState::READ);
        unread.erase(i);
      }
    } else if (cmd == "/last-seen" && valid_user_name(arg)) {
      if (auto p = conn.last_seen(arg); p)
        ctx.out.print(*p);
      else
        ctx.out.print(p.error());
    } else if (cmd == "/watch" && valid_user_name(arg)) {
      conn.watch({arg});
    } else {
      help();
    }
  }
  conn.logout();
  return 0;
}

} // namespace parley::chat
