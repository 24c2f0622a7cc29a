// Command-line spelling: CAF 0.17 takes long options only as --name=value; people
// (and the README) write --name value. This joins the two for known options.
#pragma once

#include <caf/config_option_set.hpp>

#include <string>
#include <vector>

namespace parley {

/// argv[1..] with every "--name value" of a non-flag option in `options` joined
/// into "--name=value"; everything else unchanged.
std::vector<std::string> join_long_options(int argc, char** argv,
                                           const caf::config_option_set& options);

} // namespace parley
