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

namespace {

// Removes "scheme://host:port/path" words: an endpoint named in a message (tls://..., wss://...)
// says nothing about what failed, and must not make a TCP timeout look like a TLS failure.
std::string without_uris(std::string text) {
  for (auto at = text.find("://"); at != std::string::npos; at = text.find("://")) {
    auto begin = at;
    while (begin > 0 && std::isalnum(static_cast<unsigned char>(text[begin - 1]))) --begin;
    auto end = text.find_first_of(" \t,;()", at);
    text.replace(begin, (end == std::string::npos ? text.size() : end) - begin, "<endpoint>");
  }
  return text;
}

}  // namespace

DialPhase dial_phase_of(const Error& error) {
  const std::string message = without_uris(lower(error.message));
  if (contains(message, "resolv")) return DialPhase::resolve;
  if (contains(message, "connecting to") || contains(message, "connect to") ||
      contains(message, "cannot connect"))
    return DialPhase::connect;
  if (contains(message, "tls handshake") || contains(message, "tls with")) return DialPhase::tls;
  if (contains(message, "handshake") || contains(message, "upgrade") || contains(message, "answer") ||
      contains(message, "sending to"))
    return DialPhase::handshake;
  return DialPhase::unknown;
}

FailureClass classify_dial_error(const Error& error) {
  const std::string message = without_uris(lower(error.message));
  const DialPhase phase = dial_phase_of(error);
  if (error.code == Errc::timeout) {
    // By the phase the deadline hit: before the TCP connection was up nothing came back
    // at all (silent drop); once connected, the server or a middlebox went quiet
    // (stall), whichever layer (TLS, WebSocket upgrade, Noise) was waiting.
    switch (phase) {
      case DialPhase::resolve:
        return FailureClass::dns;
      case DialPhase::connect:
      case DialPhase::unknown:
        return FailureClass::silent_drop;
      case DialPhase::tls:
      case DialPhase::handshake:
        return FailureClass::stall;
    }
  }
  if (contains(message, "tls") || contains(message, "ssl") || contains(message, "alert") ||
      contains(message, "certificate")) {
    return FailureClass::tls_alert;
  }
  if (error.code == Errc::auth_failed) return FailureClass::bad_reply;
  if (phase == DialPhase::resolve) return FailureClass::dns;
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
