#include "probes/baseline.hpp"

#include "net/errc.hpp"
#include "smtp/capabilities.hpp"

#include <chrono>

namespace smtpprobe::probes {
namespace {

double ms_since(net::Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(net::Clock::now() - start).count();
}

// EHLO, or HELO when the server does not know EHLO (RFC 5321 §3.2: "command not recognized";
// like .NET we fall back only on 500/502, and report it).
bool ehlo_or_helo(Conversation& conversation, SetupOptions const& options, ServerFacts& facts,
                  bool after_tls) {
    facts.phase = after_tls ? Phase::ehlo_after_tls : Phase::ehlo;
    net::Clock::time_point const start = net::Clock::now();
    smtp::Reply reply = conversation.exchange(smtp::ehlo_command(options.ehlo_name));
    if (reply.code == 250) {
        smtp::Capabilities caps = smtp::parse_capabilities(reply);
        if (after_tls) {
            facts.ehlo_after_tls_reply = reply;
            facts.after_tls = std::move(caps);
            facts.timings.ehlo_after_tls = ms_since(start);
        } else {
            facts.ehlo_reply = reply;
            facts.before_tls = std::move(caps);
            facts.timings.ehlo = ms_since(start);
        }
        return true;
    }
    if (reply.code == 500 || reply.code == 502) {
        smtp::Reply helo = conversation.exchange(smtp::helo_command(options.ehlo_name));
        if (helo.code == 250) {
            smtp::Capabilities caps;
            caps.from_helo = true;
            if (!helo.lines.empty())
                caps.domain = helo.lines.front().substr(0, helo.lines.front().find(' '));
            if (after_tls) {
                facts.ehlo_after_tls_reply = helo;
                facts.after_tls = std::move(caps);
                facts.timings.ehlo_after_tls = ms_since(start);
            } else {
                facts.ehlo_refusal = reply;
                facts.hello_verb = smtp::HelloVerb::helo;
                facts.ehlo_reply = helo;
                facts.before_tls = std::move(caps);
                facts.timings.ehlo = ms_since(start);
            }
            return true;
        }
        facts.stop_reason =
            "the server refused EHLO (" + reply.wire() + ") and HELO (" + helo.wire() + ")";
        return false;
    }
    facts.stop_reason = "the server refused EHLO: " + reply.wire();
    if (!after_tls)
        facts.ehlo_reply = reply;
    return false;
}

std::string auth_probe_mechanism(ServerFacts const& facts) {
    if (facts.before_tls && !facts.before_tls->auth.empty())
        return smtp::to_upper(facts.before_tls->auth.front());
    return "LOGIN";
}

void record_auth_before_tls(Conversation& conversation, ServerFacts& facts, smtp::Reply reply) {
    facts.auth_before_tls_reply = std::move(reply);
    if (facts.auth_before_tls_reply->code == 334)
        conversation.exchange(smtp::cancel_command());
}

void probe_auth_before_tls(Conversation& conversation, ServerFacts& facts) {
    facts.phase = Phase::auth_before_tls;
    facts.auth_before_tls_mechanism = auth_probe_mechanism(facts);
    record_auth_before_tls(
        conversation, facts,
        conversation.exchange(smtp::auth_command(*facts.auth_before_tls_mechanism)));
}

/// MAIL FROM:<> once, and RSET when it opened a transaction (a refused MAIL leaves none:
/// RFC 5321 §4.1.1.2), so that the session goes on as if it had not been sent.
///
/// With PIPELINING advertised (`caps`), MAIL FROM:<> and RSET go in one group (RFC 2920
/// §3.1: both may stand anywhere in a group; RSET is harmless when MAIL was refused), and
/// before STARTTLS the AUTH-before-TLS probe ends the same group (`auth_probe`; nothing is
/// ever pipelined behind an AUTH). So the probe costs no round trip of its own before TLS,
/// and one (instead of two when accepted) under TLS: the first connection is the run's
/// critical path (issue 21).
void probe_mail(Conversation& conversation, ServerFacts& facts, Phase phase,
                std::optional<smtp::Reply>& into, bool auth_probe = false) {
    smtp::Capabilities const* caps = phase == Phase::mail_before_tls
                                         ? (facts.before_tls ? &*facts.before_tls : nullptr)
                                         : facts.final_capabilities();
    facts.phase = phase;
    if (caps == nullptr || !caps->has("PIPELINING")) {
        if (auth_probe)
            probe_auth_before_tls(conversation, facts);
        facts.phase = phase;
        into = conversation.exchange(smtp::mail_command(""));
        if (into->first_digit() == 2)
            conversation.exchange(smtp::rset_command());
        return;
    }
    std::vector<smtp::Command> group{smtp::mail_command(""), smtp::rset_command()};
    if (auth_probe) {
        facts.auth_before_tls_mechanism = auth_probe_mechanism(facts);
        group.push_back(smtp::auth_command(*facts.auth_before_tls_mechanism));
    }
    std::vector<smtp::Reply> replies = conversation.exchange_group(group);
    into = replies[0];
    if (auth_probe) {
        facts.phase = Phase::auth_before_tls;
        record_auth_before_tls(conversation, facts, std::move(replies[2]));
    }
}

} // namespace

ServerFacts open_session(Conversation& conversation, SetupOptions const& options) {
    ServerFacts facts;
    return open_session(conversation, options, facts);
}

ServerFacts open_session(Conversation& conversation, SetupOptions const& options,
                         ServerFacts& facts) {
    facts = ServerFacts{};
    if (options.mode == TlsMode::implicit) {
        facts.phase = Phase::tls_handshake;
        net::Clock::time_point const start = net::Clock::now();
        facts.starttls_attempted = false;
        facts.tls = conversation.upgrade_to_tls(options.tls);
        facts.timings.tls_handshake = ms_since(start);
    }
    facts.phase = Phase::banner;
    if (options.banner) {
        facts.banner = options.banner;
    } else {
        net::Clock::time_point const start = net::Clock::now();
        facts.banner = conversation.greeting();
        facts.timings.banner = ms_since(start);
    }
    if (facts.banner->code != 220) {
        // RFC 5321 §3.1: 554 (or 421) instead of 220 means "no SMTP service here".
        facts.stop_reason = "the server did not greet with 220: " + facts.banner->wire();
        return facts;
    }
    if (!ehlo_or_helo(conversation, options, facts, false))
        return facts;
    if (conversation.tls()) {
        // Implicit TLS: the one EHLO is already "after TLS".
        facts.after_tls = facts.before_tls;
        facts.ehlo_after_tls_reply = facts.ehlo_reply;
        if (options.probe_mail_before_auth) {
            net::Clock::time_point const start = net::Clock::now();
            probe_mail(conversation, facts, Phase::mail_before_auth, facts.mail_before_auth_reply);
            facts.timings.mail_before_auth = ms_since(start);
        }
        facts.ready = true;
        return facts;
    }
    facts.starttls_offered = facts.before_tls->has("STARTTLS");
    bool const want_tls = options.mode == TlsMode::starttls ||
                          (options.mode == TlsMode::auto_ && facts.starttls_offered);
    net::Clock::time_point const probes_start = net::Clock::now();
    if (!want_tls) {
        if (options.probe_mail_before_auth) {
            probe_mail(conversation, facts, Phase::mail_before_tls, facts.mail_before_tls_reply);
            facts.timings.probes_before_tls = ms_since(probes_start);
        }
        facts.ready = true;
        return facts;
    }
    if (options.probe_mail_before_auth)
        probe_mail(conversation, facts, Phase::mail_before_tls, facts.mail_before_tls_reply,
                   options.probe_auth_before_tls);
    else if (options.probe_auth_before_tls)
        probe_auth_before_tls(conversation, facts);
    if (options.probe_mail_before_auth || options.probe_auth_before_tls)
        facts.timings.probes_before_tls = ms_since(probes_start);
    // With --tls starttls we try even when it is not listed: some servers accept STARTTLS
    // without advertising it, and the reply is evidence either way.
    facts.starttls_attempted = true;
    facts.phase = Phase::starttls;
    net::Clock::time_point const starttls_start = net::Clock::now();
    facts.starttls_reply = conversation.exchange(smtp::starttls_command());
    facts.timings.starttls = ms_since(starttls_start);
    if (facts.starttls_reply->code != 220) {
        facts.stop_reason = "the server refused STARTTLS: " + facts.starttls_reply->wire();
        // --tls auto carries on in plaintext, as an opportunistic client would.
        facts.ready = options.mode == TlsMode::auto_;
        return facts;
    }
    facts.phase = Phase::tls_handshake;
    net::Clock::time_point const handshake_start = net::Clock::now();
    net::TlsConnectOptions tls = options.tls;
    tls.after_starttls = true;
    facts.tls = conversation.upgrade_to_tls(tls);
    facts.timings.tls_handshake = ms_since(handshake_start);
    // RFC 3207 §4.2: forget everything learnt before TLS and ask again.
    if (!ehlo_or_helo(conversation, options, facts, true))
        return facts;
    if (options.probe_mail_before_auth) {
        net::Clock::time_point const start = net::Clock::now();
        probe_mail(conversation, facts, Phase::mail_before_auth, facts.mail_before_auth_reply);
        facts.timings.mail_before_auth = ms_since(start);
    }
    facts.ready = true;
    return facts;
}

} // namespace smtpprobe::probes
