// Transports side by side over loopback (docs/BENCHMARKS.md "Transports"): handshake
// latency, bulk throughput with CPU seconds per GB (client + server, same process), and
// the bytes on the wire per 256-byte message. One row per transport in kTransports;
// tls/wss add a row there (with whatever ListenOptions they need).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "crypto/secret.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/obfs/obfs_secrets.hpp"
#include "transport/transport.hpp"
#include "util/coro.hpp"
#include "wire/frame_codec.hpp"

namespace {

using namespace samizdat;  // NOLINT: a benchmark file, not a header
using namespace samizdat::transport;

struct TransportCase {
  std::string scheme;
  std::string query;  // extra URI parameters (e.g. shaping)
  // Frame padding a client of this transport uses (what dial() picks by default).
  std::function<wire::PaddingPolicy(const Endpoint&)> client_padding;
  // Extra listener settings (tls: certificate and key).
  std::function<void(ListenOptions&)> listen_setup;
  // Round trips before the first frame (tls: TCP, TLS 1.3, the HTTP upgrade, Noise).
  int round_trips = 2;
  std::string path;  // wss: the secret path
};

// tls: a self-signed certificate written once per run to a temporary directory.
void use_test_certificate(ListenOptions& options) {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("sz-bench-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    auto written = https::write_self_signed_certificate(d / "tls.crt", d / "tls.key", "localhost");
    if (!written.ok()) throw std::runtime_error(written.error().describe());
    return d;
  }();
  options.tls_certificate = dir / "tls.crt";
  options.tls_private_key = dir / "tls.key";
}

const std::vector<TransportCase>& transports() {
  static const std::vector<TransportCase> all = {
      {"tcp", "", [](const Endpoint&) { return wire::PaddingPolicy::none(); }},
      {"obfs", "", [](const Endpoint& e) { return obfs::derive_obfs_secrets(e)->frame_padding; }},
      {"tls", "", [](const Endpoint&) { return wire::PaddingPolicy::none(); }, use_test_certificate, 4},
      // wss: TCP, TLS 1.3, the WebSocket upgrade, then Noise inside binary messages.
      {"wss", "", [](const Endpoint&) { return wire::PaddingPolicy::none(); }, use_test_certificate, 4,
       "/bench"},
  };
  return all;
}

constexpr std::size_t kBulkFrame = wire::kMaxFramePayload;  // 16 KiB payloads
constexpr std::size_t kBulkFramesPerIteration = 256;        // 4 MiB per iteration

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// A listener on 127.0.0.1:0 on its own thread. Each stream reads frames; a 1-byte frame
// is a "done?" marker answered with a 1-byte frame.
class Server {
 public:
  explicit Server(const TransportCase& tc) {
    crypto::ensure_initialized();
    key_ = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
    auto bind = *parse_endpoint_uri(tc.scheme + "://127.0.0.1:0" + tc.path +
                                    (tc.query.empty() ? "" : "?" + tc.query));
    crypto::fill_random(bind.psk);
    ListenOptions options;
    options.server_static = key_;
    if (tc.listen_setup) tc.listen_setup(options);
    auto listener = listen(io_.get_executor(), bind, std::move(options));
    if (!listener.ok()) throw std::runtime_error(listener.error().describe());
    listener_ = std::move(*listener);
    listener_->start([](std::unique_ptr<FrameStream> stream) {
      auto executor = stream->get_executor();
      asio::co_spawn(executor, sink(std::move(stream)), samizdat::log_escape("transport_bench: sink"));
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    listener_->close();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  const Endpoint& endpoint() const { return listener_->local_endpoint(); }

 private:
  static asio::awaitable<void> sink(std::unique_ptr<FrameStream> stream) {
    for (;;) {
      auto frame = co_await stream->read_frame();
      if (!frame.ok()) co_return;
      if (frame->size() == 1) {
        auto written = co_await stream->write_frame(*frame);
        if (!written.ok()) co_return;
      }
    }
  }
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::shared_ptr<crypto::X25519KeyPair> key_;
  std::unique_ptr<Listener> listener_;
  std::thread thread_;
};

template <class T>
T run_client(asio::io_context& io, std::function<asio::awaitable<T>()> body) {
  auto future = asio::co_spawn(io, body(), asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

std::unique_ptr<FrameStream> dial_or_die(asio::io_context& io, const Endpoint& endpoint) {
  return run_client<std::unique_ptr<FrameStream>>(io, [&]() -> asio::awaitable<std::unique_ptr<FrameStream>> {
    DialOptions options;
    auto stream = co_await dial(io.get_executor(), endpoint, options);
    if (!stream.ok()) throw std::runtime_error(stream.error().describe());
    co_return std::move(*stream);
  });
}

// Connect + handshake (client side until dial() returns). Round trips: TCP's SYN/SYN-ACK,
// then one for the handshake (tcp: message 1 / message 2; obfs: first packet +
// confirmation / reply), so 2 RTT before the first frame can be sent.
void BM_Handshake(benchmark::State& state, const TransportCase& tc) {
  Server server(tc);
  asio::io_context io;
  for (auto _ : state) {
    auto stream = dial_or_die(io, server.endpoint());
    stream->close();
  }
  state.counters["round_trips"] = tc.round_trips;
}

// One connection; 4 MiB of 16 KiB frames per iteration, then a marker round trip so
// the time covers the server reading (and decrypting) everything.
void BM_Bulk(benchmark::State& state, const TransportCase& tc) {
  Server server(tc);
  asio::io_context io;
  auto stream = dial_or_die(io, server.endpoint());
  Bytes payload = crypto::random_bytes(kBulkFrame);
  Bytes marker{1};
  double cpu_start = cpu_seconds();
  for (auto _ : state) {
    auto status = run_client<Status>(io, [&]() -> asio::awaitable<Status> {
      for (std::size_t i = 0; i < kBulkFramesPerIteration; ++i) {
        auto sent = stream->send_frame(payload);
        if (!sent.ok()) co_return sent;
        if (stream->queued_bytes() > (512u << 10)) {
          auto flushed = co_await stream->flush();
          if (!flushed.ok()) co_return flushed;
        }
      }
      auto written = co_await stream->write_frame(marker);
      if (!written.ok()) co_return written;
      auto ack = co_await stream->read_frame();
      if (!ack.ok()) co_return std::move(ack).error();
      co_return Status{};
    });
    if (!status.ok()) {
      state.SkipWithError(status.error().describe().c_str());
      break;
    }
  }
  double cpu = cpu_seconds() - cpu_start;
  double bytes = static_cast<double>(state.iterations() * kBulkFramesPerIteration * kBulkFrame);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["cpu_s_per_GB"] = bytes > 0 ? cpu / (bytes / 1e9) : 0;
  stream->close();
}

// Bytes on the wire for one 256-byte message (frame header, AEAD tag, padding), averaged
// over 10,000 frames sealed exactly as the transport's stream seals them.
void BM_Overhead256(benchmark::State& state, const TransportCase& tc) {
  crypto::ensure_initialized();
  auto endpoint =
      *parse_endpoint_uri(tc.scheme + "://127.0.0.1:1" + (tc.query.empty() ? "" : "?" + tc.query));
  crypto::fill_random(endpoint.psk);
  crypto::fill_random(endpoint.server_static);
  auto key = crypto::Secret<wire::kFrameKeySize>::random();
  wire::FrameEncoder encoder(key, tc.client_padding(endpoint));
  Bytes payload(256, 7);
  Bytes out;
  std::size_t frames = 0, bytes = 0;
  for (auto _ : state) {
    for (int i = 0; i < 10'000; ++i) {
      out.clear();
      if (!encoder.seal_data(payload, out).ok()) state.SkipWithError("seal failed");
      bytes += out.size();
      ++frames;
    }
  }
  state.counters["overhead_bytes"] = static_cast<double>(bytes) / static_cast<double>(frames) - 256.0;
}

const bool registered = [] {
  for (const auto& tc : transports()) {
    benchmark::RegisterBenchmark(("BM_Handshake/" + tc.scheme).c_str(), BM_Handshake, tc)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("BM_Bulk/" + tc.scheme).c_str(), BM_Bulk, tc)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(2.0);
    benchmark::RegisterBenchmark(("BM_Overhead256/" + tc.scheme).c_str(), BM_Overhead256, tc)->Iterations(1);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
