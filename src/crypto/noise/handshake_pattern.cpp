#include "crypto/noise/handshake_pattern.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace samizdat::crypto::noise {
namespace {

using enum Token;

struct BasePattern {
  std::string_view name;
  std::vector<Token> initiator_premessage;
  std::vector<Token> responder_premessage;
  std::vector<std::vector<Token>> messages;
};

// Spec rev. 34: one-way (7.4), fundamental interactive (7.5) and deferred (18.2) patterns.
const std::vector<BasePattern>& base_patterns() {
  static const std::vector<BasePattern> patterns = {
      {"N", {}, {s}, {{e, es}}},
      {"K", {s}, {s}, {{e, es, ss}}},
      {"X", {}, {s}, {{e, es, s, ss}}},
      {"NN", {}, {}, {{e}, {e, ee}}},
      {"NK", {}, {s}, {{e, es}, {e, ee}}},
      {"NX", {}, {}, {{e}, {e, ee, s, es}}},
      {"XN", {}, {}, {{e}, {e, ee}, {s, se}}},
      {"XK", {}, {s}, {{e, es}, {e, ee}, {s, se}}},
      {"XX", {}, {}, {{e}, {e, ee, s, es}, {s, se}}},
      {"KN", {s}, {}, {{e}, {e, ee, se}}},
      {"KK", {s}, {s}, {{e, es, ss}, {e, ee, se}}},
      {"KX", {s}, {}, {{e}, {e, ee, se, s, es}}},
      {"IN", {}, {}, {{e, s}, {e, ee, se}}},
      {"IK", {}, {s}, {{e, es, s, ss}, {e, ee, se}}},
      {"IX", {}, {}, {{e, s}, {e, ee, se, s, es}}},
      // Deferred patterns: authentication DH moved one message later.
      {"NK1", {}, {s}, {{e}, {e, ee, es}}},
      {"NX1", {}, {}, {{e}, {e, ee, s}, {es}}},
      {"X1N", {}, {}, {{e}, {e, ee}, {s}, {se}}},
      {"X1K", {}, {s}, {{e, es}, {e, ee}, {s}, {se}}},
      {"XK1", {}, {s}, {{e}, {e, ee, es}, {s, se}}},
      {"X1K1", {}, {s}, {{e}, {e, ee, es}, {s}, {se}}},
      {"X1X", {}, {}, {{e}, {e, ee, s, es}, {s}, {se}}},
      {"XX1", {}, {}, {{e}, {e, ee, s}, {es, s, se}}},
      {"X1X1", {}, {}, {{e}, {e, ee, s}, {es, s}, {se}}},
      {"K1N", {s}, {}, {{e}, {e, ee}, {se}}},
      {"K1K", {s}, {s}, {{e, es}, {e, ee}, {se}}},
      {"KK1", {s}, {s}, {{e}, {e, ee, se, es}}},
      {"K1K1", {s}, {s}, {{e}, {e, ee, es}, {se}}},
      {"K1X", {s}, {}, {{e}, {e, ee, s, es}, {se}}},
      {"KX1", {s}, {}, {{e}, {e, ee, se, s}, {es}}},
      {"K1X1", {s}, {}, {{e}, {e, ee, s}, {se, es}}},
      {"I1N", {}, {}, {{e, s}, {e, ee}, {se}}},
      {"I1K", {}, {s}, {{e, es, s}, {e, ee}, {se}}},
      {"IK1", {}, {s}, {{e, s}, {e, ee, se, es}}},
      {"I1K1", {}, {s}, {{e, s}, {e, ee, es}, {se}}},
      {"I1X", {}, {}, {{e, s}, {e, ee, s, es}, {se}}},
      {"IX1", {}, {}, {{e, s}, {e, ee, se, s}, {es}}},
      {"I1X1", {}, {}, {{e, s}, {e, ee, s}, {se, es}}},
  };
  return patterns;
}

Error bad_name(std::string_view name, std::string_view why) {
  return make_error(Errc::invalid_argument,
                    "unsupported Noise pattern '" + std::string(name) + "': " + std::string(why));
}

// Applies one "pskN" modifier: psk0 opens the first message, pskN closes message N.
Status apply_psk(HandshakePattern& pattern, std::string_view modifier, std::string_view full_name) {
  if (!modifier.starts_with("psk") || modifier.size() == 3) {
    return bad_name(full_name, "unknown modifier '" + std::string(modifier) + "' (only pskN is supported)");
  }
  std::size_t position = 0;
  auto digits = modifier.substr(3);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), position);
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    return bad_name(full_name, "bad psk modifier '" + std::string(modifier) + "'");
  }
  if (position > pattern.messages.size()) {
    return bad_name(full_name, "'" + std::string(modifier) + "' names a message the pattern does not have");
  }
  if (position == 0) {
    auto& first = pattern.messages.front();
    if (!first.empty() && first.front() == psk) return bad_name(full_name, "psk0 given twice");
    first.insert(first.begin(), psk);
  } else {
    auto& message = pattern.messages[position - 1];
    if (!message.empty() && message.back() == psk) {
      return bad_name(full_name, "'" + std::string(modifier) + "' given twice");
    }
    message.push_back(psk);
  }
  pattern.has_psk = true;
  return {};
}

}  // namespace

std::string_view to_string(Token token) {
  switch (token) {
    case e:
      return "e";
    case s:
      return "s";
    case ee:
      return "ee";
    case es:
      return "es";
    case se:
      return "se";
    case ss:
      return "ss";
    case psk:
      return "psk";
  }
  return "?";
}

std::size_t HandshakePattern::psk_count() const {
  std::size_t count = 0;
  for (const auto& message : messages) count += std::count(message.begin(), message.end(), psk);
  return count;
}

Result<HandshakePattern> pattern_by_name(std::string_view name) {
  // The base name is the leading run of upper-case letters and digits; modifiers follow
  // in lower case, joined by '+'.
  std::size_t base_end = 0;
  while (base_end < name.size() && ((name[base_end] >= 'A' && name[base_end] <= 'Z') ||
                                    (name[base_end] >= '0' && name[base_end] <= '9'))) {
    ++base_end;
  }
  auto base_name = name.substr(0, base_end);
  const auto& patterns = base_patterns();
  auto it = std::find_if(patterns.begin(), patterns.end(),
                         [&](const BasePattern& p) { return p.name == base_name; });
  if (it == patterns.end()) return bad_name(name, "unknown base pattern '" + std::string(base_name) + "'");

  HandshakePattern pattern{std::string(name), it->initiator_premessage, it->responder_premessage,
                           it->messages, false};
  auto modifiers = name.substr(base_end);
  while (!modifiers.empty()) {
    auto plus = modifiers.find('+');
    auto modifier = modifiers.substr(0, plus);
    SZ_CHECK(apply_psk(pattern, modifier, name));
    if (plus == std::string_view::npos) break;
    modifiers = modifiers.substr(plus + 1);
    if (modifiers.empty()) return bad_name(name, "trailing '+'");
  }
  return pattern;
}

Result<HandshakePattern> pattern_for_protocol(std::string_view protocol_name) {
  constexpr std::string_view prefix = "Noise_";
  constexpr std::string_view suffix = "_25519_ChaChaPoly_BLAKE2b";
  if (!protocol_name.starts_with(prefix) || !protocol_name.ends_with(suffix) ||
      protocol_name.size() <= prefix.size() + suffix.size()) {
    return make_error(Errc::invalid_argument,
                      "unsupported Noise protocol '" + std::string(protocol_name) +
                          "': only Noise_<pattern>_25519_ChaChaPoly_BLAKE2b is implemented");
  }
  return pattern_by_name(
      protocol_name.substr(prefix.size(), protocol_name.size() - prefix.size() - suffix.size()));
}

}  // namespace samizdat::crypto::noise
