#include "node/argv.hpp"

namespace parley {

std::vector<std::string> join_long_options(int argc, char** argv,
                                           const caf::config_option_set& options) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> out;
  out.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    bool long_without_value = arg.size() > 2 && arg.compare(0, 2, "--") == 0
                              && arg.find('=') == std::string::npos;
    if (long_without_value && i + 1 < args.size()) {
      auto* opt = options.cli_long_name_lookup(arg.substr(2));
      if (opt != nullptr && !opt->is_flag()) {
        out.emplace_back(arg + "=" + args[++i]);
        continue;
      }
    }
    out.emplace_back(arg);
  }
  return out;
}

} // namespace parley
