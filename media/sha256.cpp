#include "media/sha256.hpp"

#include <openssl/evp.h>

#include <new>

namespace parley::media {

sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
    throw std::bad_alloc();  // only when out of memory
}

sha256::~sha256() {
  EVP_MD_CTX_free(ctx_);
}

void sha256::update(const void* data, size_t size) {
  EVP_DigestUpdate(ctx_, data, size);
}

std::string sha256::finish() {
  std::string out(sha256_bytes, '\0');
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_, reinterpret_cast<unsigned char*>(out.data()), &len);
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  return out;
}

} // namespace parley::media
