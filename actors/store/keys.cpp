#include "actors/store/keys.hpp"

namespace parley::keys {

namespace {

std::string tagged(char tag, std::string_view name) {
  std::string key;
  key.reserve(1 + name.size() + 10);
  key += tag;
  key.append(name);
  return key;
}

void append_big_endian(std::string& out, uint64_t x) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((x >> shift) & 0xFF);
}

} // namespace

std::string user(std::string_view name) {
  return tagged('u', name);
}

std::string inbox(std::string_view name, uint64_t seq) {
  auto key = inbox_begin(name);
  append_big_endian(key, seq);
  return key;
}

std::string inbox_begin(std::string_view name) {
  auto key = tagged('i', name);
  key += '\0';
  return key;
}

std::string inbox_end(std::string_view name) {
  auto key = tagged('i', name);
  key += '\1';
  return key;
}

std::string forward(std::string_view member, uint64_t seq) {
  auto key = forward_begin(member);
  append_big_endian(key, seq);
  return key;
}

std::string forward_begin(std::string_view member) {
  auto key = tagged('f', member);
  key += '\0';
  return key;
}

std::string forward_end(std::string_view member) {
  auto key = tagged('f', member);
  key += '\1';
  return key;
}

std::string signed_prekey(std::string_view name) {
  return tagged('k', name);
}

std::string one_time_prekey(std::string_view name, uint64_t seq) {
  auto key = prekeys_begin(name);
  append_big_endian(key, seq);
  return key;
}

std::string prekeys_begin(std::string_view name) {
  auto key = tagged('o', name);
  key += '\0';
  return key;
}

std::string prekeys_end(std::string_view name) {
  auto key = tagged('o', name);
  key += '\1';
  return key;
}

std::string receipt_seen(std::string_view to, std::string_view from,
                         std::string_view id) {
  auto key = tagged('r', to);
  key += '\0';
  key.append(from);
  key += '\0';
  key.append(id);
  return key;
}

uint64_t inbox_seq(std::string_view key) noexcept {
  if (key.size() < 8)
    return 0;
  uint64_t x = 0;
  for (auto c : key.substr(key.size() - 8))
    x = (x << 8) | static_cast<uint8_t>(c);
  return x;
}

std::string store_run() {
  return "q";
}

std::string status(std::string_view recipient, std::string_view sender,
                   std::string_view id) {
  auto key = tagged('m', recipient);
  key += '\0';
  key.append(sender);
  key += '\0';
  key.append(id);
  return key;
}

std::string last_seen(std::string_view name) {
  return tagged('l', name);
}

namespace {

/// tag group 00 sender 00 id: a group message's keys. The id has a fixed
/// length (16 bytes), so it needs no separator after it.
std::string group_message_key(char tag, std::string_view group, std::string_view sender,
                              std::string_view id) {
  auto key = tagged(tag, group);
  key += '\0';
  key.append(sender);
  key += '\0';
  key.append(id);
  return key;
}

} // namespace

std::string group(std::string_view group) {
  return tagged('g', group);
}

std::string group_message(std::string_view group, std::string_view sender,
                          std::string_view id) {
  return group_message_key('x', group, sender, id);
}

std::string group_counts(std::string_view group, std::string_view sender,
                         std::string_view id) {
  return group_message_key('z', group, sender, id);
}

std::string group_receipt(std::string_view group, std::string_view sender,
                          std::string_view id, std::string_view member) {
  auto key = group_receipts_begin(group, sender, id);
  key.append(member);
  return key;
}

std::string group_receipts_begin(std::string_view group, std::string_view sender,
                                 std::string_view id) {
  auto key = group_message_key('y', group, sender, id);
  key += '\0';
  return key;
}

std::string group_receipts_end(std::string_view group, std::string_view sender,
                               std::string_view id) {
  auto key = group_message_key('y', group, sender, id);
  key += '\1';
  return key;
}

} // namespace parley::keys
