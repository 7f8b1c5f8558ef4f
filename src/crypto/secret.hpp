// Containers for secret bytes. Secret<N> is a fixed-size, move-only array that is
// wiped when destroyed or moved from; SecretBytes is the variable-size variant.
// Long-lived identity keys may additionally live in sodium_malloc'd memory
// (see LockedSecret), but per-session keys use these to keep memory per
// connection small.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "util/bytes.hpp"

namespace samizdat::crypto {

// Call once before any other crypto function (idempotent, thread-safe).
void ensure_initialized();

void fill_random(MutableByteView out);
Bytes random_bytes(std::size_t size);
std::uint32_t random_uniform(std::uint32_t upper_bound);  // in [0, upper_bound)
// Overwrites `bytes` with zeros in a way the compiler cannot skip (for secrets in plain buffers).
inline void wipe(MutableByteView bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

template <std::size_t N>
class Secret {
 public:
  Secret() { bytes_.fill(0); }
  explicit Secret(ByteView from) {
    if (from.size() != N) std::abort();  // programmer error: wrong key size
    std::copy(from.begin(), from.end(), bytes_.begin());
  }
  ~Secret() { sodium_memzero(bytes_.data(), N); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : bytes_(other.bytes_) { sodium_memzero(other.bytes_.data(), N); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      sodium_memzero(other.bytes_.data(), N);
    }
    return *this;
  }

  static Secret random() {
    Secret s;
    fill_random(s.bytes_);
    return s;
  }
  // Explicit copy, so duplicating a secret is visible at the call site.
  [[nodiscard]] Secret clone() const { return Secret(view()); }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }
  ByteView view() const { return {bytes_.data(), N}; }
  MutableByteView mutable_view() { return {bytes_.data(), N}; }
  void wipe() { sodium_memzero(bytes_.data(), N); }

 private:
  std::array<std::uint8_t, N> bytes_;
};

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : bytes_(size, 0) {}
  explicit SecretBytes(ByteView from) : bytes_(from.begin(), from.end()) {}
  ~SecretBytes() { wipe(); }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      wipe();
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  ByteView view() const { return bytes_; }
  MutableByteView mutable_view() { return bytes_; }
  void wipe() {
    if (!bytes_.empty()) sodium_memzero(bytes_.data(), bytes_.size());
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

// A secret in libsodium guarded memory (guard pages, mlock, no core dumps).
// Costs at least three pages: use for long-lived keys only.
template <std::size_t N>
class LockedSecret {
 public:
  LockedSecret() : bytes_(static_cast<std::uint8_t*>(sodium_malloc(N))) {
    if (bytes_ == nullptr) std::abort();
    sodium_memzero(bytes_, N);
  }
  ~LockedSecret() {
    if (bytes_ != nullptr) sodium_free(bytes_);
  }
  LockedSecret(const LockedSecret&) = delete;
  LockedSecret& operator=(const LockedSecret&) = delete;
  LockedSecret(LockedSecret&& other) noexcept : bytes_(other.bytes_) { other.bytes_ = nullptr; }
  LockedSecret& operator=(LockedSecret&& other) noexcept {
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  std::uint8_t* data() { return bytes_; }
  const std::uint8_t* data() const { return bytes_; }
  static constexpr std::size_t size() { return N; }
  ByteView view() const { return {bytes_, N}; }

 private:
  std::uint8_t* bytes_;
};

}  // namespace samizdat::crypto
