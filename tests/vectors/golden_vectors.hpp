// Reads the golden vector files in tests/vectors/: fixed inputs and the outputs the code
// produced for them when the format was fixed. The outputs are frozen; a test that finds a
// different output means a derivation or an encoding changed, which breaks every peer and
// every stored message made before: never regenerate a file to make a test pass.
#pragma once

#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/encoding.hpp"

namespace samizdat::golden {

using Json = nlohmann::json;

inline std::filesystem::path vector_file(std::string_view name) {
  return std::filesystem::path(SAMIZDAT_SOURCE_DIR) / "tests" / "vectors" / name;
}

// The file's "vectors" array; throws (failing the test) if the file is missing or broken.
inline Json load_vectors(std::string_view name) {
  std::ifstream in(vector_file(name));
  if (!in) throw std::runtime_error("golden vector file missing: " + vector_file(name).string());
  Json document = Json::parse(in);
  if (!document.contains("vectors") || !document.at("vectors").is_array() || document.at("vectors").empty()) {
    throw std::runtime_error(vector_file(name).string() + " has no vectors");
  }
  return document.at("vectors");
}

inline Bytes hex_field(const Json& object, const char* key) {
  auto decoded = hex_decode(object.at(key).get<std::string>());
  if (!decoded) throw std::runtime_error(std::string("field '") + key + "' is not hex");
  return *decoded;
}

template <std::size_t N>
std::array<std::uint8_t, N> hex_array(const Json& object, const char* key) {
  Bytes bytes = hex_field(object, key);
  if (bytes.size() != N) throw std::runtime_error(std::string("field '") + key + "' has the wrong length");
  std::array<std::uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

}  // namespace samizdat::golden
