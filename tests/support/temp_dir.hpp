// A fresh folder under $TMPDIR (or /tmp), removed with everything in it; and a
// search through such folders (for what must never be written in the clear).
#pragma once

#include <string>

namespace parley::test {

class temp_dir {
public:
  temp_dir();
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  /// path() + "/" + name
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

private:
  std::string path_;
};

/// Whether any file under `dir` contains the bytes `needle`.
bool any_file_contains(const std::string& dir, const std::string& needle);

} // namespace parley::test
