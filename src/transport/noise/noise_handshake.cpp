#include "transport/noise/noise_handshake.hpp"

#include "crypto/keyed_hash.hpp"

namespace samizdat::transport {
namespace noise = crypto::noise;
namespace {

// e (32) + encrypted s (32 + 16) + encrypted PSK proof (32 + 16).
constexpr std::size_t kMinIkMessage1 = 128;
// e (32) + encrypted PSK proof (32 + 16).
constexpr std::size_t kMinNkMessage1 = 80;

// In IKpsk2/NKpsk2 the PSK is mixed in only at the end of message 2, so message 1 alone
// would not prove the client knows it and the server would answer anyone who knows its
// public key. Message 1's payload therefore carries a proof of the PSK. The payload is
// encrypted under the es (and ss) keys and bound to h, so only this server can read it
// and it cannot be moved to another handshake; a replay of a whole message 1 is caught
// by the listener's replay cache.
std::array<std::uint8_t, 32> psk_proof(const Psk& psk) {
  static constexpr std::string_view kLabel = "samizdat/tcp/1 client hello psk proof";
  return crypto::blake2b<32>(psk, {as_bytes(kLabel)});
}

Result<ServerHandshakeResult> try_pattern(HandshakePattern pattern, ByteView message1,
                                          const crypto::X25519KeyPair& server_static, const Psk& psk) {
  auto state = SZ_TRY(make_handshake_state(pattern, kTcpPrologue, noise::Role::responder, psk,
                                           server_static.clone(), std::nullopt));
  auto payload = SZ_TRY(state.read_message(message1));
  if (!equal_constant_time(payload, psk_proof(psk))) {
    return make_error(Errc::auth_failed, "client hello does not prove knowledge of the endpoint PSK");
  }
  auto message2 = SZ_TRY(state.write_message({}));
  ServerHandshakeResult result;
  result.pattern = pattern;
  if (pattern == HandshakePattern::ik_psk2) result.client_static = state.remote_static();
  result.reply = frame_handshake_message(message2);
  result.keys = SZ_TRY(state.split());
  return result;
}

}  // namespace

Result<noise::HandshakeState> make_handshake_state(HandshakePattern pattern, std::string_view prologue,
                                                   noise::Role role, const Psk& psk,
                                                   std::optional<crypto::X25519KeyPair> local_static,
                                                   std::optional<crypto::X25519Public> remote_static) {
  noise::HandshakeOptions options;
  options.protocol_name = std::string(pattern == HandshakePattern::ik_psk2 ? kNoiseIK : kNoiseNK);
  options.role = role;
  options.prologue = to_bytes(prologue);
  options.local_static = std::move(local_static);
  options.remote_static = remote_static;
  options.psks.emplace_back(ByteView(psk));
  return noise::HandshakeState::create(std::move(options));
}

Result<std::size_t> parse_handshake_length(ByteView prefix) {
  if (prefix.size() != 2) return make_error(Errc::malformed, "handshake length prefix must be 2 bytes");
  std::size_t length = get_u16_be(prefix.data());
  if (length == 0 || length > kMaxHandshakeMessage) {
    return make_error(Errc::malformed, "handshake message length " + std::to_string(length) +
                                           " is outside 1.." + std::to_string(kMaxHandshakeMessage));
  }
  return length;
}

Bytes frame_handshake_message(ByteView message) {
  Bytes out(2 + message.size());
  put_u16_be(out.data(), static_cast<std::uint16_t>(message.size()));
  std::copy(message.begin(), message.end(), out.begin() + 2);
  return out;
}

Result<ServerHandshakeResult> respond_to_client_hello(ByteView message1,
                                                      const crypto::X25519KeyPair& server_static,
                                                      const Psk& psk) {
  if (message1.size() >= kMinIkMessage1) {
    auto ik = try_pattern(HandshakePattern::ik_psk2, message1, server_static, psk);
    if (ik.ok()) return ik;
  }
  if (message1.size() >= kMinNkMessage1) {
    auto nk = try_pattern(HandshakePattern::nk_psk2, message1, server_static, psk);
    if (nk.ok()) return nk;
  }
  return make_error(Errc::auth_failed,
                    "handshake did not authenticate (not a samizdat client, or a wrong server key or PSK)");
}

Result<ClientHandshake> start_client_hello(const crypto::X25519Public& server_static, const Psk& psk,
                                           const crypto::X25519KeyPair* client_static) {
  std::optional<crypto::X25519KeyPair> local;
  if (client_static != nullptr) local = client_static->clone();
  auto state = SZ_TRY(
      make_handshake_state(client_static != nullptr ? HandshakePattern::ik_psk2 : HandshakePattern::nk_psk2,
                           kTcpPrologue, noise::Role::initiator, psk, std::move(local), server_static));
  auto message1 = SZ_TRY(state.write_message(psk_proof(psk)));
  return ClientHandshake{std::move(state), frame_handshake_message(message1)};
}

Result<noise::TransportKeys> finish_client_handshake(ClientHandshake& handshake, ByteView message2) {
  auto payload = handshake.state.read_message(message2);
  if (!payload.ok()) {
    return make_error(Errc::auth_failed, "the server's handshake reply did not authenticate (" +
                                             payload.error().message + "): check the endpoint's server key");
  }
  return handshake.state.split();
}

}  // namespace samizdat::transport
