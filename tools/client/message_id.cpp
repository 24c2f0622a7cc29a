#include "tools/client/message_id.hpp"

#include "schema/rules.hpp"

#include <sodium.h>

namespace parley {

std::string new_message_id() {
  std::string id(message_id_bytes, '\0');
  randombytes_buf(id.data(), id.size());
  return id;
}

} // namespace parley
