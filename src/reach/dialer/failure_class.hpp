// Why a way into the network did not work. The dialer classifies every failed dial (and
// every live connection that dies) so backoff, `samizdat reach status` and `samizdat
// doctor` can say what the censor seems to be doing: refusing or resetting, silently
// dropping, cutting TLS, rejecting the handshake, stalling, or throttling.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/result.hpp"

namespace samizdat::reach {

enum class FailureClass : std::uint8_t {
  none = 0,
  refused = 1,             // connection refused, or reset (RST) before or after connecting
  silent_drop = 2,         // no SYN-ACK / no answer at all before the deadline
  tls_alert = 3,           // the TLS layer failed (an alert, a bad certificate, a cut TLS handshake)
  handshake_rejected = 4,  // connected, then closed during our handshake (wrong key/PSK, or interference)
  stall = 5,               // connected, then no byte came back before the deadline
  throttled = 6,           // works, but goodput collapsed while the round-trip time stayed normal
  bad_reply = 7,           // a reply that does not authenticate (a man in the middle, or a wrong key)
  dns = 8,                 // the name does not resolve
  other = 9,
};

std::string_view to_string(FailureClass failure);
std::optional<FailureClass> failure_class_from_string(std::string_view text);

// Where in a dial an error happened: resolving the name, the TCP connect, the TLS
// handshake, or the exchanges after it (WebSocket upgrade, Noise handshake).
enum class DialPhase : std::uint8_t { unknown, resolve, connect, tls, handshake };

// Reads the phase from a transport's error message (endpoint URIs in it are ignored, so
// "connecting to tls://..." is a connect error, not a TLS one).
DialPhase dial_phase_of(const Error& error);

// Classifies a dial error from any transport (transport.hpp: Errc::network / timeout /
// auth_failed with a message). Transports do not give a structured reason, so this reads
// the Errc first and the message second; unknown messages become `other`. A timeout is
// classified by its phase: in the TCP connect (or unknown) -> silent_drop; once connected
// (TLS, upgrade, Noise) -> stall; resolving -> dns.
FailureClass classify_dial_error(const Error& error);

// Classifies the loss of an established connection (read/write failed).
FailureClass classify_connection_loss(const Error& error);

}  // namespace samizdat::reach
