#include "schema/rules.hpp"

namespace parley {

bool valid_user_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_user_name)
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
              || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

std::string login_proof_message(std::string_view nonce) {
  std::string message(login_context);
  message.append(nonce);
  return message;
}

} // namespace parley
