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
  if (json_)
    emit("{\"type\":\"message\",\"from\":" + json_string(m.from) + ",\"id\":\""
         + to_hex(m.id) + "\"," + content_json(m.payload)
         + ",\"time\":" + std::to_string(m.server_time) + "}");
  else
    emit("[" + clock_time(m.server_time) + "] " + m.from + ": " + content_text(m.payload));
}

void printer::print(const client::receipt& r) {
  if (json_)
    emit("{\"type\":\"receipt\",\"id\":\"" + to_hex(r.id) + "\",\"peer\":"
         + json_string(r.peer) + ",\"state\":\"" + state_name(r.state)
         + "\",\"time\":" + std::to_string(r.time) + "}");
  else
    emit(std::string(state_name(r.state)) + ": message " + to_hex(r.id) + " to "
         + r.peer);
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
         + "\",\"peer\":" + json_string(m.peer) + ",\"id\":\"" + to_hex(m.id)
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
