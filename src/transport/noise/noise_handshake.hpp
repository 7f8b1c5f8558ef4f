// The byte-level Noise handshake of the tcp transport (and of every transport that carries
// a tcp connection's bytes: tls, wss, relay tunnels), without sockets (so it can be fuzzed):
//   client -> server: u16be length || Noise message 1   (IKpsk2 or NKpsk2)
//   server -> client: u16be length || Noise message 2
// Message 1's payload is a 32-byte proof of the endpoint PSK (keyed BLAKE2b), which the
// server checks before answering; message 2's payload is empty (a client ignores it).
// The server tells the two patterns apart by trying IKpsk2 then NKpsk2 on message 1.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "crypto/keys.hpp"
#include "crypto/noise/handshake.hpp"
#include "transport/endpoint.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport {

inline constexpr std::string_view kNoiseIK = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
inline constexpr std::string_view kNoiseNK = "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b";
// Mixed into every handshake: binds it to this protocol and version.
inline constexpr std::string_view kTcpPrologue = "samizdat/tcp/1";
// Largest handshake message either side accepts (the real ones are < 200 bytes).
inline constexpr std::size_t kMaxHandshakeMessage = 1024;

enum class HandshakePattern { ik_psk2, nk_psk2 };

// A Noise HandshakeState for `pattern` (IKpsk2 or NKpsk2, one PSK at position 2) with
// `prologue`; also used by transports that frame the same handshake differently (obfs).
Result<crypto::noise::HandshakeState> make_handshake_state(HandshakePattern pattern,
                                                           std::string_view prologue,
                                                           crypto::noise::Role role, const Psk& psk,
                                                           std::optional<crypto::X25519KeyPair> local_static,
                                                           std::optional<crypto::X25519Public> remote_static);

// The 2-byte length prefix of a handshake message; Errc::malformed outside
// [1, kMaxHandshakeMessage].
Result<std::size_t> parse_handshake_length(ByteView prefix);
// u16be(length) || message.
Bytes frame_handshake_message(ByteView message);

struct ServerHandshakeResult {
  HandshakePattern pattern = HandshakePattern::nk_psk2;
  std::optional<crypto::X25519Public> client_static;  // IKpsk2 only
  Bytes reply;                                        // length-prefixed message 2, to send
  crypto::noise::TransportKeys keys;
};

// Server side: authenticates message 1 (without its length prefix) as IKpsk2, else as
// NKpsk2, and produces the reply. Errc::auth_failed when it authenticates as neither.
Result<ServerHandshakeResult> respond_to_client_hello(ByteView message1,
                                                      const crypto::X25519KeyPair& server_static,
                                                      const Psk& psk);

// Client side, step 1: the length-prefixed message 1 and the state that reads message 2.
struct ClientHandshake {
  crypto::noise::HandshakeState state;
  Bytes hello;  // length-prefixed message 1, to send
};
Result<ClientHandshake> start_client_hello(const crypto::X25519Public& server_static, const Psk& psk,
                                           const crypto::X25519KeyPair* client_static);
// Client side, step 2: reads message 2 (without its prefix). Errc::auth_failed if it does
// not authenticate as the server.
Result<crypto::noise::TransportKeys> finish_client_handshake(ClientHandshake& handshake, ByteView message2);

}  // namespace samizdat::transport
