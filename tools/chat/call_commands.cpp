#include "tools/chat/call_commands.hpp"

#include "tools/chat/device.hpp"
#include "tools/client/message_id.hpp"

namespace parley::chat {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using kinds = wire::CallSignalKind;

} // namespace

std::optional<call_policy> parse_call_policy(const std::string& text) {
  if (text == "ignore")
    return call_policy::ignore;
  if (text == "answer")
    return call_policy::answer;
  if (text == "reject")
    return call_policy::reject;
  if (text == "busy")
    return call_policy::busy;
  return std::nullopt;
}

// -- the desk -----------------------------------------------------------------------

bool call_desk::signal(client::reconnecting_client& c, wire::CallSignalKind kind,
                       const std::string& data) {
  auto ok = c.call_signal(call_, peer_, kind, data);
  if (!ok) {
    ctx_.out.print(ok.error());
    return false;
  }
  ctx_.out.call(call_, peer_, std::string("sent ") + kind_name(kind), data);
  return true;
}

void call_desk::end(const std::string& why) {
  call_.clear();
  peer_.clear();
  ended_ = why;
}

bool call_desk::place(client::reconnecting_client& c, const std::string& peer,
                      const std::string& data) {
  if (in_call()) {
    ctx_.out.info("already in a call with " + peer_);
    return false;
  }
  call_ = new_message_id();
  peer_ = peer;
  caller_ = true;
  accepted_ = false;
  ended_.clear();
  if (!signal(c, kinds::OFFER, data)) {
    end("failed");
    return false;
  }
  return true;
}

bool call_desk::answer(client::reconnecting_client& c) {
  if (!in_call() || caller_ || accepted_) {
    ctx_.out.info("no call to answer");
    return false;
  }
  if (!signal(c, kinds::ANSWER, "sdp-answer") || !signal(c, kinds::ACCEPT))
    return false;
  accepted_ = true;
  return true;
}

bool call_desk::reject(client::reconnecting_client& c) {
  if (!in_call() || caller_ || accepted_) {
    ctx_.out.info("no call to reject");
    return false;
  }
  auto ok = signal(c, kinds::REJECT);
  end("reject");
  return ok;
}

bool call_desk::hangup(client::reconnecting_client& c) {
  if (!in_call()) {
    ctx_.out.info("no call to hang up");
    return false;
  }
  auto ok = signal(c, kinds::HANGUP);
  end("hangup");
  return ok;
}

void call_desk::on(client::reconnecting_client& c, const client::call_event& e) {
  ctx_.out.print(e);
  if (e.kind == kinds::OFFER) {
    if (policy_ == call_policy::ignore && !in_call()) {
      // Shown, for the user to /answer or /reject; ringing says a device has it.
      call_ = e.call;
      peer_ = e.peer;
      caller_ = false;
      accepted_ = false;
      ended_.clear();
      signal(c, kinds::RINGING);
      return;
    }
    if (in_call() || policy_ == call_policy::busy) {
      // One call at a time: the other caller hears busy.
      auto ok = c.call_signal(e.call, e.peer, kinds::BUSY, {});
      if (!ok)
        ctx_.out.print(ok.error());
      else
        ctx_.out.call(e.call, e.peer, "sent busy");
      return;
    }
    call_ = e.call;
    peer_ = e.peer;
    caller_ = false;
    accepted_ = false;
    ended_.clear();
    if (!signal(c, kinds::RINGING))
      return;
    if (policy_ == call_policy::answer)
      answer(c);
    else if (policy_ == call_policy::reject)
      reject(c);
    return;
  }
  if (e.call != call_)
    return;  // a late signal of a call that is over
  switch (e.kind) {
    case kinds::ACCEPT:
      accepted_ = true;
      break;
    case kinds::REJECT:
    case kinds::BUSY:
    case kinds::HANGUP:
    case kinds::TIMEOUT:
      end(kind_name(e.kind));
      break;
    default:
      break;
  }
}

// -- commands -----------------------------------------------------------------------

int run_call(context& ctx, const std::string& peer, const std::string& data,
             std::optional<double> hangup_after, double timeout) {
  auto d = device::open(ctx, false);
  if (!d || !d->connect())
    return exit_failed;
  call_desk desk(ctx, call_policy::ignore);
  if (!desk.place(d->client(), peer, data))
    return exit_failed;
  auto deadline = clock::now()
                  + std::chrono::duration_cast<clock::duration>(
                    std::chrono::duration<double>(timeout));
  std::optional<clock::time_point> hang_up_at;
  bool was_accepted = false;
  while (desk.in_call()) {
    auto now = clock::now();
    if (now >= deadline) {
      ctx.out.info("giving up");
      desk.hangup(d->client());
      break;
    }
    if (hang_up_at && now >= *hang_up_at) {
      desk.hangup(d->client());
      break;
    }
    auto updates = d->step(200ms);
    if (!updates)
      return exit_failed;
    for (auto& u : *updates) {
      if (auto e = std::get_if<client::call_event>(&u))
        desk.on(d->client(), *e);
      else if (auto err = std::get_if<client::server_error>(&u))
        ctx.out.print(*err);
      else if (std::holds_alternative<client::link_down>(u))
        std::visit([&](const auto& x) { ctx.out.print(x); }, u);
    }
    if (desk.accepted() && !was_accepted) {
      was_accepted = true;
      if (hangup_after)
        hang_up_at = clock::now()
                     + std::chrono::duration_cast<clock::duration>(
                       std::chrono::duration<double>(*hangup_after));
    }
  }
  ctx.out.info("call ended: " + desk.ended());
  return was_accepted ? exit_done : exit_failed;
}

int run_turn_credentials(context& ctx) {
  auto d = device::open(ctx, false);
  if (!d || !d->connect())
    return exit_failed;
  auto t = d->link().turn_credentials();
  if (!t) {
    ctx.out.print(t.error());
    return exit_failed;
  }
  ctx.out.print(*t);
  return exit_done;
}

} // namespace parley::chat
