#include "censor/dpi/passive_dpi.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "censor/block/ipv4.hpp"
#include "censor/dpi/ip_packet.hpp"
#include "censor/dpi/tls_client_hello.hpp"
#include "censor/sys/netns.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace samizdat::censor {

struct PassiveDpi::Flow {
  std::uint32_t client = 0, server = 0;
  std::uint16_t client_port = 0, server_port = 0;
  std::size_t record = 0;  // index into records_
  bool judged = false;
  bool ndpi_reported = false;
  double last_seen_s = 0;
  std::unique_ptr<NdpiClassifier::Flow> ndpi;
};

namespace {

std::string flow_key(std::uint32_t a, std::uint16_t ap, std::uint32_t b, std::uint16_t bp) {
  return std::to_string(a) + ":" + std::to_string(ap) + ">" + std::to_string(b) + ":" + std::to_string(bp);
}

bool equals_ignore_case(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

}  // namespace

bool domain_matches(const std::string& name, const std::string& listed) {
  if (listed.empty() || name.size() < listed.size()) return false;
  if (!equals_ignore_case(name.substr(name.size() - listed.size()), listed)) return false;
  return name.size() == listed.size() || name[name.size() - listed.size() - 1] == '.';
}

Result<std::unique_ptr<PassiveDpi>> PassiveDpi::start(const std::string& censor_ns, DpiPolicy policy,
                                                      Firewall* firewall, DpiCallbacks callbacks,
                                                      std::vector<std::string> ignore) {
  std::unique_ptr<PassiveDpi> dpi(new PassiveDpi());
  dpi->censor_ns_ = censor_ns;
  dpi->policy_ = std::move(policy);
  dpi->firewall_ = firewall;
  dpi->callbacks_ = std::move(callbacks);
  for (const auto& address : ignore) dpi->ignore_.push_back(SZ_TRY(parse_ipv4(address)));
  dpi->rng_.seed(dpi->policy_.seed != 0 ? dpi->policy_.seed : std::random_device{}());
  dpi->ndpi_ = std::make_unique<NdpiClassifier>();
  // The socket must be opened from a thread inside the censor namespace.
  std::promise<Result<int>> opened;
  auto opened_future = opened.get_future();
  PassiveDpi* self = dpi.get();
  dpi->thread_ = std::thread([self, &opened] {
    auto entered = enter_netns(self->censor_ns_);
    if (!entered) {
      opened.set_value(entered.error());
      return;
    }
    int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
      opened.set_value(make_error(Errc::io, std::string("AF_PACKET socket: ") + std::strerror(errno)));
      return;
    }
    int buffer = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    opened.set_value(fd);
    self->capture_loop(fd);
    ::close(fd);
  });
  auto fd = opened_future.get();
  if (!fd) {
    dpi->thread_.join();
    return std::move(fd).error();
  }
  return dpi;
}

PassiveDpi::~PassiveDpi() { stop(); }

void PassiveDpi::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<FlowRecord> PassiveDpi::flows() {
  std::lock_guard lock(mutex_);
  return records_;
}

void PassiveDpi::capture_loop(int fd) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::uint8_t> buffer(65536 + 256);
  double last_sweep = 0;
  while (!stopping_) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 100);
    const double now_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (ready == 1) {
      sockaddr_ll from{};
      socklen_t from_length = sizeof from;
      ssize_t n =
          ::recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_length);
      // Each forwarded packet is seen at ingress and again at egress: keep ingress only.
      if (n > 0 && from.sll_pkttype != PACKET_OUTGOING && ntohs(from.sll_protocol) == ETH_P_IP) {
        handle(ByteView(buffer.data(), static_cast<std::size_t>(n)), now_s);
      }
    }
    if (now_s - last_sweep > 1.0) {
      last_sweep = now_s;
      for (auto it = flows_.begin(); it != flows_.end();) {
        if (now_s - it->second->last_seen_s > 30) {
          finish_flow(*it->second);
          it = flows_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  // Judge what is already queued: a stop right after the last client must not lose its flows.
  const double end_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int i = 0; i < 10000; ++i) {
    sockaddr_ll from{};
    socklen_t from_length = sizeof from;
    ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                           &from_length);
    if (n <= 0) break;
    if (from.sll_pkttype != PACKET_OUTGOING && ntohs(from.sll_protocol) == ETH_P_IP) {
      handle(ByteView(buffer.data(), static_cast<std::size_t>(n)), end_s);
    }
  }
  for (auto& [key, flow] : flows_) finish_flow(*flow);
  flows_.clear();
}

void PassiveDpi::handle(ByteView packet, double now_s) {
  auto ip = parse_ip_packet(packet);
  if (!ip || ip->protocol != 6) return;  // the testbed judges TCP only
  for (auto address : ignore_) {
    if (ip->source == address || ip->destination == address) return;
  }
  const auto forward = flow_key(ip->source, ip->source_port, ip->destination, ip->destination_port);
  auto it = flows_.find(forward);
  bool from_client = true;
  if (it == flows_.end()) {
    it = flows_.find(flow_key(ip->destination, ip->destination_port, ip->source, ip->source_port));
    from_client = false;
  }
  if (it == flows_.end()) {
    // Flows are tracked from their SYN; mid-stream packets of unknown flows are ignored.
    if ((ip->tcp_flags & (kTcpSyn | kTcpAck)) != kTcpSyn) return;
    if (flows_.size() > 4096) return;  // bounded state, like any real middlebox
    auto flow = std::make_unique<Flow>();
    flow->client = ip->source;
    flow->server = ip->destination;
    flow->client_port = ip->source_port;
    flow->server_port = ip->destination_port;
    flow->ndpi = std::make_unique<NdpiClassifier::Flow>(*ndpi_);
    FlowRecord record;
    record.t_s = now_s;
    record.client = format_ipv4(flow->client);
    record.server = format_ipv4(flow->server);
    record.client_port = flow->client_port;
    record.server_port = flow->server_port;
    {
      std::lock_guard lock(mutex_);
      flow->record = records_.size();
      records_.push_back(record);
    }
    it = flows_.emplace(forward, std::move(flow)).first;
    from_client = true;
    if (callbacks_.on_connection) callbacks_.on_connection(record.client, record.server, record.server_port);
  }
  Flow& flow = *it->second;
  flow.last_seen_s = now_s;
  if (!flow.ndpi_reported) {
    const bool decided = flow.ndpi->feed(packet, static_cast<std::uint64_t>(now_s * 1000));
    if (decided || flow.ndpi->packets() >= policy_.ndpi_max_packets) {
      flow.ndpi_reported = true;
      on_ndpi_verdict(flow);
    }
  }
  if (from_client && !flow.judged && !ip->payload.empty()) {
    flow.judged = true;
    on_first_payload(flow, ip->payload);
  }
  if (ip->tcp_flags & (kTcpFin | kTcpRst)) {
    // Keep the flow a moment for the other side's FIN; the sweep finishes it.
    flow.last_seen_s = std::min(flow.last_seen_s, now_s - 28);
  }
}

void PassiveDpi::on_first_payload(Flow& flow, ByteView payload) {
  const std::string server = format_ipv4(flow.server);
  const std::string client = format_ipv4(flow.client);
  std::vector<std::string> actions;
  auto verdict = judge_first_packet(payload);
  std::string sni;
  if (auto name = parse_client_hello_sni(payload)) sni = *name;
  bool coin = false;

  auto record_block = [&](Mechanism mechanism, BlockAction action, const std::string& target,
                          const Status& status) {
    if (!status) {
      spdlog::warn("DPI could not add {} block for {}: {}", to_string(mechanism), target,
                   status.error().message);
      actions.push_back(to_string(mechanism) + " FAILED: " + status.error().message);
      return;
    }
    actions.push_back(to_string(mechanism) + " " + to_string(action) + " " + target);
    if (callbacks_.on_block) callbacks_.on_block(mechanism, action, target);
  };

  // A flow whose SNI is under a listed domain is marked once for `mechanism` (the nftables
  // rules reset or throttle marked flows).
  auto mark_if_listed = [&](const std::vector<std::string>& listed_domains, Mechanism mechanism,
                            BlockAction action) {
    for (const auto& listed : listed_domains) {
      if (!domain_matches(sni, listed)) continue;
      record_block(mechanism, action,
                   client + ":" + std::to_string(flow.client_port) + " -> " + server + ":" +
                       std::to_string(flow.server_port) + " (SNI " + sni + ")",
                   firewall_->mark_flow(mechanism, client, flow.client_port, server, flow.server_port,
                                        policy_.sni_flow_seconds));
      return;
    }
  };
  if (!sni.empty()) {
    mark_if_listed(policy_.sni_reset, Mechanism::sni_reset, BlockAction::reset);
    mark_if_listed(policy_.sni_throttle, Mechanism::sni_throttle, BlockAction::drop);
  }
  if (policy_.fully_encrypted && verdict.suspect) {
    coin = std::bernoulli_distribution(std::clamp(policy_.block_probability, 0.0, 1.0))(rng_);
    if (coin) {
      record_block(Mechanism::fully_encrypted, policy_.action,
                   server + ":" + std::to_string(flow.server_port) + "/tcp",
                   firewall_->block_tuple(Mechanism::fully_encrypted, policy_.action, server,
                                          flow.server_port, "tcp", policy_.block_seconds));
    } else {
      actions.push_back("fully_encrypted suspect, let through by the probability coin");
    }
    if (callbacks_.on_suspect) callbacks_.on_suspect({server, flow.server_port, to_bytes(payload)});
  }
  if (policy_.inline_hold) {
    // Verdict is in place (blocks added above): release the flow's held packets.
    if (auto s = firewall_->mark_judged(client, flow.client_port, server, flow.server_port); !s) {
      actions.push_back("release FAILED: " + s.error().message);
    }
  }
  std::lock_guard lock(mutex_);
  FlowRecord& record = records_[flow.record];
  record.first_payload_length = payload.size();
  record.first_payload_hex = hex_encode(payload.subspan(0, std::min<std::size_t>(payload.size(), 32)));
  record.fully_encrypted = verdict;
  record.fully_encrypted_judged = true;
  record.coin_blocked = coin;
  record.sni = sni;
  for (auto& action : actions) record.actions.push_back(std::move(action));
}

void PassiveDpi::on_ndpi_verdict(Flow& flow) {
  NdpiVerdict verdict = flow.ndpi->finish();
  std::string matched;
  for (const auto& name : policy_.block_protocols) {
    // A port-based guess is not a classification: a whitelisting censor treats it as Unknown.
    const bool unknown = verdict.guessed || verdict.protocol == "Unknown";
    if ((unknown && equals_ignore_case(name, "Unknown")) ||
        (!verdict.guessed &&
         (equals_ignore_case(name, verdict.protocol) || equals_ignore_case(name, verdict.master) ||
          equals_ignore_case(name, verdict.app)))) {
      matched = "protocol " + verdict.protocol;
    }
  }
  for (const auto& risk : policy_.block_risks) {
    for (const auto& seen : verdict.risks) {
      if (equals_ignore_case(risk, seen)) matched = "risk '" + seen + "'";
    }
  }
  std::vector<std::string> actions;
  if (!matched.empty()) {
    const std::string server = format_ipv4(flow.server);
    const std::string target = server + ":" + std::to_string(flow.server_port) + "/tcp (" + matched + ")";
    auto status = firewall_->block_tuple(Mechanism::protocol, policy_.action, server, flow.server_port, "tcp",
                                         policy_.protocol_block_seconds);
    if (status) {
      actions.push_back("protocol " + to_string(policy_.action) + " " + target);
      if (callbacks_.on_block) callbacks_.on_block(Mechanism::protocol, policy_.action, target);
    } else {
      actions.push_back("protocol block FAILED: " + status.error().message);
    }
  }
  std::lock_guard lock(mutex_);
  FlowRecord& record = records_[flow.record];
  record.ndpi = verdict;
  record.ndpi_done = true;
  for (auto& action : actions) record.actions.push_back(std::move(action));
}

void PassiveDpi::finish_flow(Flow& flow) {
  if (flow.ndpi_reported || flow.ndpi->packets() == 0) return;
  flow.ndpi_reported = true;
  on_ndpi_verdict(flow);
}

}  // namespace samizdat::censor
