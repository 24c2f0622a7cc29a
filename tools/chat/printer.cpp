#include "tools/chat/printer.hpp"

#include "schema/errors.hpp"
#include "tools/client/media_ref.hpp"
#include "tools/client/message_id.hpp"

#include <cstdio>
#include <ctime>
#include <iostream>

namespace parley::chat {

namespace {

std::string clock_time(int64_t ms) {
  auto secs = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

void emit(const std::string& line) {
  std::cout << line << std::endl;  // flushed: output is read by scripts and tests
}

/// A message's content for people: its text, or what file it carries.
std::string content_text(const std::string& payload) {
  if (!client::is_media_payload(payload))
    return payload;
  auto ref = client::decode_media_payload(payload);
  if (!ref)
    return "[media message this version cannot read]";
  return "[media " + media_id_text(*ref) + " "
         + (ref->file_name.empty() ? std::string("(no name)") : ref->file_name) + ", "
         + ref->mime_type + ", " + client::human_size(ref->size) + "]";
}

/// A message's content in JSON: "text":… or "media":{…}.
std::string content_json(const std::string& payload) {
  if (!client::is_media_payload(payload))
    return "\"text\":" + json_string(payload);
  auto ref = client::decode_media_payload(payload);
  if (!ref)
    return "\"media\":null";
  return "\"media\":{\"id\":\"" + to_hex(ref->id) + "\",\"mime\":" + json_string(ref->mime_type)
         + ",\"size\":" + std::to_string(ref->size) + ",\"name\":" + json_string(ref->file_name)
         + ",\"thumbnail\":" + (ref->thumbnail.empty() ? "false" : "true") + "}";
}

} // namespace

std::string media_id_text(const client::media_ref& ref) {
  return to_hex(ref.id).substr(0, 16);
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

const char* kind_name(wire::CallSignalKind kind) {
  switch (kind) {
    case wire::CallSignalKind::OFFER:
      return "offer";
    case wire::CallSignalKind::RINGING:
      return "ringing";
    case wire::CallSignalKind::ANSWER:
      return "answer";
    case wire::CallSignalKind::ICE:
      return "ice";
    case wire::CallSignalKind::ACCEPT:
      return "accept";
    case wire::CallSignalKind::REJECT:
      return "reject";
    case wire::CallSignalKind::BUSY:
      return "busy";
    case wire::CallSignalKind::HANGUP:
      return "hangup";
    case wire::CallSignalKind::TIMEOUT:
      return "timeout";
  }
  return "unknown";
}

const char* action_name(wire::GroupAction action) {
  switch (action) {
    case wire::GroupAction::CREATED:
      return "created";
    case wire::GroupAction::ADDED:
      return "added";
    case wire::GroupAction::REMOVED:
      return "removed";
    case wire::GroupAction::LEFT:
      return "left";
    case wire::GroupAction::PROMOTED:
      return "promoted";
  }
  return "unknown";
}

const char* state_name(wire::ReceiptState state) {
  switch (state) {
    case wire::ReceiptState::SENT:
      return "sent";
    case wire::ReceiptState::DELIVERED:
      return "delivered";
    case wire::ReceiptState::READ:
      return "read";
  }
  return "unknown";
}

void printer::print(const client::event& e) {
  std::visit([this](const auto& x) { print(x); }, e);
}

void printer::print(const client::message& m) {
  auto group = to_hex(m.group);
  if (json_)
    emit("{\"type\":\"message\",\"from\":" + json_string(m.from) + ",\"id\":\""
         + to_hex(m.id) + "\"," + content_json(m.payload)
         + ",\"time\":" + std::to_string(m.server_time)
         + (group.empty() ? "" : ",\"group\":\"" + group + "\"") + "}");
  else
    emit("[" + clock_time(m.server_time) + "] " + (group.empty() ? "" : "#" + group + " ")
         + m.from + ": " + content_text(m.payload));
}

void printer::print(const client::receipt& r) {
  auto group = to_hex(r.group);
  if (json_)
    emit("{\"type\":\"receipt\",\"id\":\"" + to_hex(r.id) + "\",\"peer\":"
         + json_string(r.peer) + ",\"state\":\"" + state_name(r.state)
         + "\",\"time\":" + std::to_string(r.time)
         + (group.empty() ? "" : ",\"group\":\"" + group + "\"") + "}");
  else
    emit(std::string(state_name(r.state)) + ": message " + to_hex(r.id) + " to "
         + (group.empty() ? r.peer : "group #" + group));
}

void printer::print(const client::group_notice& n) {
  auto group = to_hex(n.group);
  std::string members;
  std::string list;
  for (auto& m : n.members) {
    members += (members.empty() ? "" : ",") + json_string(m);
    list += (list.empty() ? "" : ", ") + m;
  }
  if (json_) {
    emit("{\"type\":\"group\",\"group\":\"" + group + "\",\"name\":"
         + json_string(n.name) + ",\"action\":\"" + action_name(n.action)
         + "\",\"by\":" + json_string(n.by) + ",\"members\":[" + members
         + "],\"epoch\":" + std::to_string(n.epoch) + ",\"time\":"
         + std::to_string(n.time) + "}");
    return;
  }
  auto where = "'" + n.name + "' (#" + group + ")";
  switch (n.action) {
    case wire::GroupAction::CREATED:
      return emit(n.by + " created " + where);
    case wire::GroupAction::ADDED:
      return emit(n.by + " added " + list + " to " + where);
    case wire::GroupAction::REMOVED:
      return emit(n.by + " removed " + list + " from " + where);
    case wire::GroupAction::LEFT:
      return emit(n.by + " left " + where);
    case wire::GroupAction::PROMOTED:
      return emit(n.by + " made " + list + " admin of " + where);
  }
}

void printer::print(const client::call_event& c) {
  call(c.call, c.peer, kind_name(c.kind), c.payload);
}

void printer::call(const std::string& call, const std::string& peer,
                   const std::string& what, const std::string& data) {
  if (json_)
    emit("{\"type\":\"call\",\"call\":\"" + to_hex(call) + "\",\"peer\":"
         + json_string(peer) + ",\"kind\":\"" + what + "\",\"data\":"
         + json_string(data) + "}");
  else
    emit("call " + to_hex(call) + " with " + peer + ": " + what
         + (data.empty() ? "" : " (" + data + ")"));
}

void printer::print(const client::group_info& g) {
  if (json_) {
    std::string members;
    for (auto& m : g.members)
      members += std::string(members.empty() ? "" : ",") + "{\"user\":"
                 + json_string(m.user) + ",\"admin\":" + (m.admin ? "true" : "false")
                 + "}";
    emit("{\"type\":\"groupInfo\",\"group\":\"" + to_hex(g.group) + "\",\"name\":"
         + json_string(g.name) + ",\"epoch\":" + std::to_string(g.epoch)
         + ",\"members\":[" + members + "]}");
    return;
  }
  emit("group '" + g.name + "' #" + to_hex(g.group) + " (" + std::to_string(g.members.size())
       + " members, epoch " + std::to_string(g.epoch) + ")");
  for (auto& m : g.members)
    emit("  " + m.user + (m.admin ? " (admin)" : ""));
}

void printer::print(const client::message_info& m, const std::string& aggregate) {
  if (!json_) {
    emit("message " + to_hex(m.id) + " to group #" + to_hex(m.group) + ", sent "
         + clock_time(m.time) + ": " + aggregate + " (" + std::to_string(m.recipients.size())
         + " recipients)");
    for (auto& r : m.recipients)
      emit("  " + r.user + ": " + state_name(r.state)
           + (r.time == 0 ? "" : " at " + clock_time(r.time)));
    return;
  }
  // JSON: one line per recipient, then the summary.
  for (auto& r : m.recipients)
    emit("{\"type\":\"recipient\",\"id\":\"" + to_hex(m.id) + "\",\"user\":"
         + json_string(r.user) + ",\"state\":\"" + state_name(r.state)
         + "\",\"time\":" + std::to_string(r.time) + "}");
  emit("{\"type\":\"messageInfo\",\"id\":\"" + to_hex(m.id) + "\",\"group\":\""
       + to_hex(m.group) + "\",\"recipients\":" + std::to_string(m.recipients.size())
       + ",\"state\":\"" + aggregate + "\",\"time\":" + std::to_string(m.time) + "}");
}

void printer::print(const client::turn_info& t) {
  std::string uris;
  for (auto& u : t.uris)
    uris += (uris.empty() ? "" : ",") + json_string(u);
  if (json_)
    emit("{\"type\":\"turn\",\"username\":" + json_string(t.username)
         + ",\"password\":" + json_string(t.password) + ",\"ttl\":"
         + std::to_string(t.ttl_seconds) + ",\"uris\":[" + uris + "]}");
  else
    emit("username " + t.username + "\npassword " + t.password + "\nvalid for "
         + std::to_string(t.ttl_seconds) + " s" + (uris.empty() ? "" : "\nservers " + uris));
}

void printer::print(const client::presence& p) {
  if (json_) {
    emit("{\"type\":\"presence\",\"user\":" + json_string(p.user) + ",\"online\":"
         + (p.online ? "true" : "false") + ",\"lastSeen\":"
         + std::to_string(p.last_seen) + "}");
  } else if (p.online) {
    emit(p.user + " is online");
  } else if (p.last_seen == 0) {
    emit(p.user + " has not been seen yet");
  } else {
    emit(p.user + " was last seen " + clock_time(p.last_seen));
  }
}

void printer::print(const client::server_error& e) {
  auto code = std::string(to_string(e.code));
  if (json_)
    emit("{\"type\":\"error\",\"code\":" + json_string(code) + ",\"message\":"
         + json_string(e.message)
         + (e.refers_to.empty() ? "" : ",\"id\":\"" + to_hex(e.refers_to) + "\"")
         + "}");
  else
    emit("error " + code + ": " + e.message);
}

void printer::print(const client::failure& f) {
  if (json_) {
    auto code = f.what == client::failure::kind::server ? std::string(to_string(f.code))
                                                        : std::string("client");
    emit("{\"type\":\"error\",\"code\":" + json_string(code) + ",\"message\":"
         + json_string(f.describe()) + "}");
  } else {
    std::cerr << "parley-chat: " << f.describe() << std::endl;
  }
}

void printer::print(const client::link_up& up) {
  if (json_)
    emit("{\"type\":\"link\",\"up\":true,\"user\":" + json_string(up.welcome.user)
         + "}");
  else
    std::cerr << "parley-chat: connected as " << up.welcome.user << std::endl;
}

void printer::print(const client::link_down& down) {
  if (json_)
    emit("{\"type\":\"link\",\"up\":false,\"message\":"
         + json_string(down.why.describe())
         + ",\"retryInMs\":" + std::to_string(down.retry_in.count()) + "}");
  else
    std::cerr << "parley-chat: not connected (" << down.why.describe()
              << "); retrying in " << down.retry_in.count() << " ms" << std::endl;
}

void printer::queued(const client::stored_message& m) {
  if (json_)
    emit("{\"type\":\"queued\",\"id\":\"" + to_hex(m.id) + "\",\"peer\":"
         + json_string(m.peer) + "," + content_json(m.body)
         + ",\"time\":" + std::to_string(m.created) + "}");
  else
    emit("[" + clock_time(m.created) + "] queued for " + m.peer + ": " + content_text(m.body)
         + " (id " + to_hex(m.id) + ")");
}

void printer::history(const client::stored_message& m, const std::string& self) {
  auto time = m.server_time != 0 ? m.server_time : m.created;
  auto state = client::tick_name(m.state, m.outgoing);
  if (json_) {
    emit("{\"type\":\"history\",\"direction\":\"" + std::string(m.outgoing ? "out" : "in")
         + "\",\"peer\":" + json_string(m.peer)
         + (m.group.empty() ? "" : ",\"group\":\"" + m.group + "\"")
         + ",\"id\":\"" + to_hex(m.id)
         + "\"," + content_json(m.body) + ",\"time\":" + std::to_string(time)
         + ",\"state\":\"" + state + "\""
         + (m.error.empty() ? "" : ",\"error\":" + json_string(m.error)) + "}");
  } else {
    auto from = m.outgoing ? self : m.peer;
    auto tick = std::string(state) + (m.error.empty() ? "" : ": " + m.error);
    emit("[" + clock_time(time) + "] " + from + ": " + content_text(m.body) + "  (" + tick
         + ")");
  }
}

void printer::media_done(const char* what, const client::media_ref& ref,
                         const std::string& path, uint64_t resumed_at) {
  if (json_)
    emit("{\"type\":\"" + std::string(what) + "\",\"media\":\"" + to_hex(ref.id)
         + "\",\"path\":" + json_string(path) + ",\"size\":" + std::to_string(ref.size)
         + ",\"resumedAt\":" + std::to_string(resumed_at) + "}");
  else
    emit(std::string(what) + " " + path + " (" + client::human_size(ref.size) + ", media "
         + media_id_text(ref) + ")"
         + (resumed_at > 0 ? ", resumed at byte " + std::to_string(resumed_at) : ""));
}

void printer::warning(const std::string& code, const std::string& peer,
                      const std::string& text) {
  if (json_)
    emit("{\"type\":\"warning\",\"code\":" + json_string(code) + ",\"peer\":"
         + json_string(peer) + ",\"message\":" + json_string(text) + "}");
  else
    emit("warning: " + text);
}

void printer::safety_number(const std::string& peer, const std::string& digits) {
  if (json_)
    emit("{\"type\":\"safetyNumber\",\"peer\":" + json_string(peer)
         + ",\"digits\":" + json_string(digits) + "}");
  else
    emit("safety number with " + peer + ": " + digits);
}

void printer::info(const std::string& text) {
  if (json_)
    emit("{\"type\":\"info\",\"message\":" + json_string(text) + "}");
  else
    emit(text);
}

} // namespace parley::chat
