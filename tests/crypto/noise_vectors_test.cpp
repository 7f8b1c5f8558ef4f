// Runs the cacophony Noise vectors (25519/ChaChaPoly/BLAKE2b) through both roles: each
// handshake message is written by one side and read by the other, and every ciphertext,
// the handshake hash and the transport messages after split() must match the file.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "crypto/noise/handshake.hpp"
#include "util/encoding.hpp"

namespace samizdat::crypto::noise {
namespace {

const char* const kVectorPath = SAMIZDAT_SOURCE_DIR "/tests/vectors/noise-25519-chachapoly-blake2b.json";

Bytes hex(const nlohmann::json& value) {
  auto decoded = hex_decode(value.get<std::string>());
  if (!decoded) throw std::runtime_error("bad hex in vector file: " + decoded.error().describe());
  return *decoded;
}

HandshakeOptions options_for(const nlohmann::json& vector, Role role) {
  const std::string side = role == Role::initiator ? "init_" : "resp_";
  HandshakeOptions options;
  options.protocol_name = vector.at("protocol_name").get<std::string>();
  options.role = role;
  options.prologue = hex(vector.at(side + "prologue"));
  if (vector.contains(side + "static")) {
    options.local_static = X25519KeyPair::from_secret(hex(vector.at(side + "static")));
  }
  if (vector.contains(side + "ephemeral")) {
    options.local_ephemeral = X25519KeyPair::from_secret(hex(vector.at(side + "ephemeral")));
  }
  if (vector.contains(side + "remote_static")) {
    auto key = to_array<32>(hex(vector.at(side + "remote_static")));
    if (!key) throw std::runtime_error("bad remote static key in vector file");
    options.remote_static = *key;
  }
  if (vector.contains(side + "psks")) {
    for (const auto& psk : vector.at(side + "psks")) options.psks.emplace_back(hex(psk));
  }
  return options;
}

// Returns an empty string when the vector passes, otherwise what went wrong.
std::string run_vector(const nlohmann::json& vector) {
  auto initiator = HandshakeState::create(options_for(vector, Role::initiator));
  if (!initiator) return "initiator create: " + initiator.error().describe();
  auto responder = HandshakeState::create(options_for(vector, Role::responder));
  if (!responder) return "responder create: " + responder.error().describe();

  const auto& messages = vector.at("messages");
  std::size_t index = 0;
  for (; index < messages.size() && !initiator->is_complete(); ++index) {
    bool from_initiator = initiator->is_my_turn();
    if (from_initiator == responder->is_my_turn()) return "both or neither side think it is their turn";
    auto& writer = from_initiator ? *initiator : *responder;
    auto& reader = from_initiator ? *responder : *initiator;
    auto payload = hex(messages[index].at("payload"));
    auto expected = hex(messages[index].at("ciphertext"));
    auto written = writer.write_message(payload);
    if (!written) return "message " + std::to_string(index) + " write: " + written.error().describe();
    if (*written != expected) return "message " + std::to_string(index) + " ciphertext differs";
    auto read = reader.read_message(expected);
    if (!read) return "message " + std::to_string(index) + " read: " + read.error().describe();
    if (*read != payload) return "message " + std::to_string(index) + " payload differs";
  }
  if (!initiator->is_complete() || !responder->is_complete()) return "handshake did not complete";
  auto expected_hash = hex(vector.at("handshake_hash"));
  if (!std::equal(expected_hash.begin(), expected_hash.end(), initiator->handshake_hash().begin(),
                  initiator->handshake_hash().end()) ||
      !std::equal(expected_hash.begin(), expected_hash.end(), responder->handshake_hash().begin(),
                  responder->handshake_hash().end())) {
    return "handshake hash differs";
  }

  auto initiator_keys = initiator->split();
  auto responder_keys = responder->split();
  if (!initiator_keys || !responder_keys) return "split failed";
  if (initiator_keys->handshake_hash != expected_hash) return "split handshake hash differs";
  // Transport messages keep alternating; in one-way patterns only the initiator sends.
  const bool one_way = vector.at("messages").size() > 0 &&
                       pattern_for_protocol(vector.at("protocol_name").get<std::string>())->one_way();
  for (std::size_t i = index; i < messages.size(); ++i) {
    bool from_initiator = one_way || i % 2 == 0;
    auto& sender = from_initiator ? initiator_keys->send : responder_keys->send;
    auto& receiver = from_initiator ? responder_keys->receive : initiator_keys->receive;
    auto payload = hex(messages[i].at("payload"));
    auto expected = hex(messages[i].at("ciphertext"));
    auto sealed = sender.encrypt_with_ad({}, payload);
    if (!sealed || *sealed != expected)
      return "transport message " + std::to_string(i) + " ciphertext differs";
    auto opened = receiver.decrypt_with_ad({}, expected);
    if (!opened || *opened != payload) return "transport message " + std::to_string(i) + " did not decrypt";
  }
  return {};
}

TEST(NoiseVectors, EverySupportedCacophonyVectorMatchesInBothRoles) {
  std::ifstream file(kVectorPath);
  ASSERT_TRUE(file.good()) << "Noise vector file missing: " << kVectorPath
                           << " (tests/vectors/ in the repository)";
  nlohmann::json document;
  ASSERT_NO_THROW(document = nlohmann::json::parse(file)) << "vector file is not valid JSON";
  ASSERT_TRUE(document.contains("vectors")) << "vector file has no 'vectors' array";

  std::size_t attempted = 0;
  std::size_t passed = 0;
  std::size_t skipped = 0;
  std::set<std::string> attempted_patterns;
  for (const auto& vector : document.at("vectors")) {
    auto name = vector.at("protocol_name").get<std::string>();
    auto pattern = pattern_for_protocol(name);
    if (!pattern) {
      ++skipped;
      std::cout << "skipped (unsupported): " << name << "\n";
      continue;
    }
    ++attempted;
    attempted_patterns.insert(pattern->name);
    std::string failure;
    try {
      failure = run_vector(vector);
    } catch (const std::exception& error) {
      failure = std::string("vector file: ") + error.what();
    }
    if (failure.empty()) {
      ++passed;
    } else {
      ADD_FAILURE() << name << ": " << failure;
    }
  }
  std::cout << "noise vectors: " << passed << "/" << attempted << " passed (" << skipped
            << " skipped as unsupported)" << std::endl;
  EXPECT_EQ(passed, attempted);
  for (const char* required : {"IKpsk2", "NKpsk2", "IK", "NK", "XX"}) {
    EXPECT_TRUE(attempted_patterns.contains(required))
        << "no vector attempted for required pattern " << required;
  }
}

}  // namespace
}  // namespace samizdat::crypto::noise
