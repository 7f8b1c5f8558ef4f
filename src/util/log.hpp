// Logging set-up. Everything logs through spdlog's default logger; programs call
// init_logging once from main. Never log secrets or message contents.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace samizdat {

// level: "trace", "debug", "info", "warn", "error", "off". Logs go to stderr.
void init_logging(std::string_view level);

}  // namespace samizdat
