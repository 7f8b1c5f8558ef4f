#include "reach/dialer/failure_class.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace samizdat::reach {
namespace {

constexpr std::array<std::string_view, 10> kNames = {
    "ok",    "refused",   "silent-drop", "tls-alert", "handshake-rejected",
    "stall", "throttled", "bad-reply",   "dns",       "other"};

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string_view to_string(FailureClass failure) {
  auto index = static_cast<std::size_t>(failure);
  return index < kNames.size() ? kNames[index] : "other";
}

std::optional<FailureClass> failure_class_from_string(std::string_view text) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == text) return static_cast<FailureClass>(i);
  }
  return std::nullopt;
}

FailureClass classify_dial_error(const Error& error) {
  const std::string message = lower(error.message);
  if (contains(message, "tls") || contains(message, "ssl") || contains(message, "alert") ||
      contains(message, "certificate")) {
    return FailureClass::tls_alert;
  }
  if (error.code == Errc::auth_failed) return FailureClass::bad_reply;
  if (contains(message, "resolve")) return FailureClass::dns;
  if (error.code == Errc::timeout) {
    // Before the connection is up nothing came back at all; after it, the server (or a
    // middlebox) accepted the connection and then went quiet.
    if (contains(message, "connecting") || contains(message, "connect ")) return FailureClass::silent_drop;
    if (contains(message, "handshake")) return FailureClass::stall;
    return FailureClass::silent_drop;
  }
  if (contains(message, "refused") || contains(message, "reset")) return FailureClass::refused;
  if (contains(message, "during the handshake") || contains(message, "closed")) {
    return FailureClass::handshake_rejected;
  }
  if (contains(message, "unreachable") || contains(message, "no route")) return FailureClass::silent_drop;
  return FailureClass::other;
}

FailureClass classify_connection_loss(const Error& error) {
  const std::string message = lower(error.message);
  if (contains(message, "throttl")) return FailureClass::throttled;
  if (contains(message, "keepalive") || error.code == Errc::timeout) return FailureClass::silent_drop;
  if (contains(message, "tls") || contains(message, "alert")) return FailureClass::tls_alert;
  // A reset and an orderly close look the same to a censor's victim: the path is cut.
  return FailureClass::refused;
}

}  // namespace samizdat::reach
