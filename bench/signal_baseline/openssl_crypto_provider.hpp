#pragma once
// The crypto callbacks libsignal-protocol-c needs (random, HMAC-SHA256, SHA-512, AES-CBC/CTR),
// implemented with OpenSSL 3. Algorithms are fetched once and reused so the baseline pays
// no per-call name lookups: a slow provider would flatter Samizdat in the comparison.

#include <signal_protocol.h>

#include <memory>

namespace samizdat::bench::signal_baseline {

class OpenSslCryptoProvider {
 public:
  // Fetches every algorithm up front; throws std::runtime_error if OpenSSL lacks one.
  OpenSslCryptoProvider();
  ~OpenSslCryptoProvider();
  OpenSslCryptoProvider(const OpenSslCryptoProvider&) = delete;
  OpenSslCryptoProvider& operator=(const OpenSslCryptoProvider&) = delete;

  // Installs the callbacks into `context`; this object must outlive it.
  void install(signal_context* context);

  struct Algorithms;

 private:
  std::unique_ptr<Algorithms> algorithms_;
};

}  // namespace samizdat::bench::signal_baseline
