#include "crypto/noise/handshake.hpp"

#include <algorithm>

namespace samizdat::crypto::noise {
namespace {

bool contains(const std::vector<Token>& tokens, Token token) {
  return std::find(tokens.begin(), tokens.end(), token) != tokens.end();
}

Error protocol_error(std::string message) { return make_error(Errc::protocol, std::move(message)); }

}  // namespace

Result<HandshakeState> HandshakeState::create(HandshakeOptions options) {
  ensure_initialized();
  HandshakeState state;
  state.pattern_ = SZ_TRY(pattern_for_protocol(options.protocol_name));
  state.role_ = options.role;
  const auto& pattern = state.pattern_;
  const bool initiator = options.role == Role::initiator;
  const auto& own_premessage = initiator ? pattern.initiator_premessage : pattern.responder_premessage;
  const auto& peer_premessage = initiator ? pattern.responder_premessage : pattern.initiator_premessage;
  const std::string who = initiator ? "initiator" : "responder";

  if (contains(own_premessage, Token::e) || contains(peer_premessage, Token::e)) {
    return make_error(Errc::invalid_argument,
                      "pattern " + pattern.name + " pre-shares an ephemeral key: unsupported");
  }
  bool sends_static = contains(own_premessage, Token::s);
  for (std::size_t i = initiator ? 0 : 1; i < pattern.messages.size(); i += 2) {
    sends_static = sends_static || contains(pattern.messages[i], Token::s);
  }
  if (sends_static && !options.local_static) {
    return make_error(Errc::invalid_argument,
                      "Noise " + pattern.name + " needs the " + who + "'s static key pair (local_static)");
  }
  if (contains(peer_premessage, Token::s) && !options.remote_static) {
    return make_error(Errc::invalid_argument, "Noise " + pattern.name +
                                                  " needs the peer's static public key "
                                                  "known in advance (remote_static)");
  }
  if (options.psks.size() != pattern.psk_count()) {
    return make_error(Errc::invalid_argument, "Noise " + pattern.name + " uses " +
                                                  std::to_string(pattern.psk_count()) + " PSK(s), got " +
                                                  std::to_string(options.psks.size()));
  }

  if (sends_static) state.local_static_ = std::move(options.local_static);
  // A remote key the pattern does not pre-share is ignored: it would be replaced by whatever the
  // peer sends, so it could not pin anything. Callers check remote_static() after the handshake.
  if (contains(peer_premessage, Token::s)) state.remote_static_ = options.remote_static;
  state.local_ephemeral_ = std::move(options.local_ephemeral);
  state.psks_ = std::move(options.psks);

  state.symmetric_.initialize(options.protocol_name);
  state.symmetric_.mix_hash(options.prologue);
  // Pre-messages are hashed initiator first, whichever side we are (spec 7.1).
  if (contains(pattern.initiator_premessage, Token::s)) {
    state.symmetric_.mix_hash(initiator ? ByteView(state.local_static_->public_key)
                                        : ByteView(*state.remote_static_));
  }
  if (contains(pattern.responder_premessage, Token::s)) {
    state.symmetric_.mix_hash(initiator ? ByteView(*state.remote_static_)
                                        : ByteView(state.local_static_->public_key));
  }
  return state;
}

bool HandshakeState::is_complete() const { return next_message_ >= pattern_.messages.size(); }

bool HandshakeState::is_my_turn() const {
  if (broken_ || is_complete()) return false;
  return (next_message_ % 2 == 0) == (role_ == Role::initiator);
}

const std::optional<X25519Public>& HandshakeState::remote_static() const { return remote_static_; }

ByteView HandshakeState::handshake_hash() const { return symmetric_.handshake_hash(); }

Error HandshakeState::fail(Error error) {
  broken_ = true;
  symmetric_.wipe_keys();
  local_ephemeral_.reset();
  psks_.clear();
  return error;
}

Status HandshakeState::mix_dh(Token token) {
  const bool initiator = role_ == Role::initiator;
  // Token names are <initiator key><responder key>; map them to our key and the peer's.
  bool local_is_ephemeral = false;
  bool remote_is_ephemeral = false;
  switch (token) {
    case Token::ee:
      local_is_ephemeral = remote_is_ephemeral = true;
      break;
    case Token::es:
      local_is_ephemeral = initiator;
      remote_is_ephemeral = !initiator;
      break;
    case Token::se:
      local_is_ephemeral = !initiator;
      remote_is_ephemeral = initiator;
      break;
    case Token::ss:
      break;
    default:
      return make_error(Errc::internal, "mix_dh called with a non-DH token");
  }
  const auto& local = local_is_ephemeral ? local_ephemeral_ : local_static_;
  const auto& remote = remote_is_ephemeral ? remote_ephemeral_ : remote_static_;
  if (!local || !remote) {
    return make_error(Errc::internal, "Noise " + pattern_.name + ": key for '" +
                                          std::string(to_string(token)) + "' missing (pattern table bug)");
  }
  auto shared = SZ_TRY(x25519(local->secret_key, *remote));
  symmetric_.mix_key(shared.view());
  return {};
}

Status HandshakeState::mix_psk() {
  if (next_psk_ >= psks_.size())
    return make_error(Errc::internal, "Noise: ran out of PSKs (pattern table bug)");
  symmetric_.mix_key_and_hash(psks_[next_psk_].view());
  psks_[next_psk_].wipe();
  ++next_psk_;
  return {};
}

std::size_t HandshakeState::message_size(const std::vector<Token>& tokens, std::size_t payload_size) const {
  // Mirrors write_message: which tokens produce bytes, and whether a key exists by then.
  bool keyed = symmetric_.has_key();
  std::size_t size = 0;
  for (Token token : tokens) {
    switch (token) {
      case Token::e:
        size += kDhLen;
        keyed = keyed || pattern_.has_psk;
        break;
      case Token::s:
        size += kDhLen + (keyed ? kTagSize : 0);
        break;
      default:
        keyed = true;
        break;
    }
  }
  return size + payload_size + (keyed ? kTagSize : 0);
}

Result<Bytes> HandshakeState::write_message(ByteView payload) {
  if (broken_) return protocol_error("Noise handshake already failed: start a new one");
  if (is_complete()) return protocol_error("Noise handshake already complete: use split() keys");
  if (!is_my_turn())
    return protocol_error("Noise handshake: not our turn to write (read the peer's message)");
  const auto& tokens = pattern_.messages[next_message_];
  if (auto size = message_size(tokens, payload.size()); size > kMaxMessageSize) {
    return make_error(Errc::limit_exceeded, "Noise handshake message of " + std::to_string(size) +
                                                " bytes exceeds 65535: send a smaller payload");
  }

  Bytes out;
  for (Token token : tokens) {
    switch (token) {
      case Token::e: {
        if (!local_ephemeral_) local_ephemeral_ = X25519KeyPair::generate();
        const auto& pub = local_ephemeral_->public_key;
        append(out, pub);
        symmetric_.mix_hash(pub);
        if (pattern_.has_psk) symmetric_.mix_key(pub);
        break;
      }
      case Token::s: {
        auto sealed = symmetric_.encrypt_and_hash(local_static_->public_key);
        if (!sealed) return fail(std::move(sealed).error());
        append(out, *sealed);
        break;
      }
      case Token::psk:
        if (auto status = mix_psk(); !status) return fail(std::move(status).error());
        break;
      default:
        if (auto status = mix_dh(token); !status) return fail(std::move(status).error());
        break;
    }
  }
  auto sealed = symmetric_.encrypt_and_hash(payload);
  if (!sealed) return fail(std::move(sealed).error());
  append(out, *sealed);
  ++next_message_;
  return out;
}

Result<Bytes> HandshakeState::read_message(ByteView message) {
  if (broken_) return protocol_error("Noise handshake already failed: start a new one");
  if (is_complete()) return fail(protocol_error("Noise handshake already complete: unexpected message"));
  if (is_my_turn()) return fail(protocol_error("Noise handshake: peer sent a message when it was our turn"));
  if (message.size() > kMaxMessageSize) {
    return fail(
        make_error(Errc::limit_exceeded,
                   "Noise handshake message of " + std::to_string(message.size()) + " bytes exceeds 65535"));
  }
  auto truncated = [&](std::string_view what) {
    return fail(make_error(Errc::malformed, "Noise handshake message " + std::to_string(next_message_ + 1) +
                                                " truncated: " + std::string(what) + " missing"));
  };

  ByteView rest = message;
  for (Token token : pattern_.messages[next_message_]) {
    switch (token) {
      case Token::e: {
        if (rest.size() < kDhLen) return truncated("ephemeral key");
        X25519Public re{};
        std::copy_n(rest.begin(), kDhLen, re.begin());
        rest = rest.subspan(kDhLen);
        remote_ephemeral_ = re;
        symmetric_.mix_hash(re);
        if (pattern_.has_psk) symmetric_.mix_key(re);
        break;
      }
      case Token::s: {
        const std::size_t size = kDhLen + (symmetric_.has_key() ? kTagSize : 0);
        if (rest.size() < size) return truncated("static key");
        auto opened = symmetric_.decrypt_and_hash(rest.first(size));
        if (!opened) return fail(std::move(opened).error());
        X25519Public rs{};
        std::copy_n(opened->begin(), kDhLen, rs.begin());
        remote_static_ = rs;
        rest = rest.subspan(size);
        break;
      }
      case Token::psk:
        if (auto status = mix_psk(); !status) return fail(std::move(status).error());
        break;
      default:
        if (auto status = mix_dh(token); !status) return fail(std::move(status).error());
        break;
    }
  }
  if (symmetric_.has_key() && rest.size() < kTagSize) return truncated("payload tag");
  auto payload = symmetric_.decrypt_and_hash(rest);
  if (!payload) return fail(std::move(payload).error());
  ++next_message_;
  return payload;
}

Result<TransportKeys> HandshakeState::split() {
  if (broken_) return protocol_error("Noise handshake failed: no transport keys");
  if (!is_complete()) return protocol_error("Noise handshake not complete: no transport keys yet");
  if (split_done_) return protocol_error("Noise transport keys already taken (split() is once only)");
  auto [first, second] = symmetric_.split();
  TransportKeys keys;
  const bool initiator = role_ == Role::initiator;
  keys.send = initiator ? std::move(first) : std::move(second);
  keys.receive = initiator ? std::move(second) : std::move(first);
  auto hash = handshake_hash();
  keys.handshake_hash.assign(hash.begin(), hash.end());
  // The handshake's secrets are no longer needed; h stays readable for channel binding.
  split_done_ = true;
  symmetric_.wipe_keys();
  local_ephemeral_.reset();
  psks_.clear();
  return keys;
}

}  // namespace samizdat::crypto::noise
